namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// Host userspace's say over control-register and MSR writes, with no guest enlightenment (like
/// KVM's MSR filter): asked on the VM thread before the write takes effect, after the core's own
/// reserved-bit checks and before any host interface's hooks (CR pins, synthetic MSRs). Returning
/// false refuses the write: the guest gets #GP(0) and the register keeps its value. Installed with
/// <see cref="RegisterWriteFilterHooks.Install"/>; what to trap and what to answer is the host's policy.
/// </summary>
public interface IRegisterWriteFilter
{
    /// <summary>A write of <paramref name="newValue"/> to CR<paramref name="register"/> (0, 3, 4, 8;
    /// XCR0 is register 100) by the instruction at <paramref name="rip"/>.</summary>
    bool AllowControlRegisterWrite(int register, ulong oldValue, ulong newValue, ulong rip);

    /// <summary>A WRMSR of <paramref name="value"/> to <paramref name="msr"/> by the instruction at <paramref name="rip"/>.</summary>
    bool AllowMsrWrite(uint msr, ulong value, ulong rip);
}
