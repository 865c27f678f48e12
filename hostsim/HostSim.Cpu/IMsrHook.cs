namespace HekiGuest.HostSim.Cpu;

/// <summary>Result of an MSR hook: not handled (the core's own MSRs apply), handled, or #GP.</summary>
public enum MsrResult : byte
{
    NotHandled = 0,
    Handled = 1,
    GeneralProtection = 2,
}

/// <summary>
/// Model-specific registers the machine implements. The hook is asked first for every RDMSR/WRMSR,
/// so it can also veto writes to architectural MSRs (e.g. pinned bits); MSRs nobody handles #GP.
/// </summary>
public interface IMsrHook
{
    MsrResult Read(Cpu cpu, uint msr, out ulong value);

    MsrResult Write(Cpu cpu, uint msr, ulong value);
}
