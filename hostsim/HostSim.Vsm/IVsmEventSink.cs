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
}
