namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>How a run ended: the stop kind, host exit code, a one-line summary, and counters.</summary>
public sealed record MachineOutcome(MachineStopKind Kind, int ExitCode, string Summary, long Instructions, TimeSpan Elapsed)
{
    public const int ExitTripleFault = 70;
    public const int ExitUnimplemented = 71;
    public const int ExitHaltedForever = 72;
    public const int ExitDenied = 73;
    public const int ExitGuestReset = 74;
    public const int ExitTimeout = 124;
    public const int ExitHostQuit = 0;

    public bool IsCrash => Kind is not (MachineStopKind.GuestExit or MachineStopKind.HostQuit or MachineStopKind.GuestReset);
    public double Mips => Elapsed.TotalSeconds > 0 ? Instructions / Elapsed.TotalSeconds / 1e6 : 0;
}
