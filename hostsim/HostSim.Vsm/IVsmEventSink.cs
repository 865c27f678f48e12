namespace HekiGuest.HostSim.Vsm;

/// <summary>Where a <see cref="VsmHost"/> reports what the guest configured (host userspace's view).</summary>
public interface IVsmEventSink
{
    /// <summary>The guest completed <paramref name="step"/> with the instruction at <paramref name="rip"/>.</summary>
    void SetUp(VsmSetupStep step, int vcpu, ulong rip, ulong value);

    /// <summary>A VTL was enabled, or the VP switched VTLs; <paramref name="vtl"/> is the VTL
    /// enabled or entered.</summary>
    void Vtl(VsmVtlEvent kind, int vcpu, int vtl)
    {
    }

    /// <summary>A higher VTL changed what <paramref name="vtl"/> may do with <paramref name="pages"/>
    /// pages from <paramref name="firstGpa"/> (<see cref="VsmProtectionScope.Pages"/>: the first page
    /// named; the pages of one call need not be contiguous) to <paramref name="mask"/>.</summary>
    void Protection(VsmProtectionScope scope, int vcpu, int vtl, ulong firstGpa, ulong pages, uint mask)
    {
    }

    /// <summary>VTL1 set one of its VSM control registers (VsmPartitionConfig, the CR intercept
    /// controls) to <paramref name="value"/>.</summary>
    void Control(int vcpu, uint register, ulong value)
    {
    }

    /// <summary>A secure intercept was delivered to VTL1.</summary>
    void Intercept(VsmInterceptEvent e)
    {
    }

    /// <summary>Entering <paramref name="vtl"/>, the host injected the exception a higher VTL made
    /// pending in its PendingEvent0 (<paramref name="rip"/>: where the lower VTL takes it).</summary>
    void Injected(int vcpu, int vtl, byte vector, uint errorCode, ulong rip)
    {
    }
}
