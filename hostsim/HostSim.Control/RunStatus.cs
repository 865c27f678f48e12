namespace HekiGuest.HostSim.Control;

/// <summary>The VM's run state as QMP's query-status names it.</summary>
public enum RunStatus
{
    /// <summary>Booted, not started yet (QEMU's "prelaunch").</summary>
    Prelaunch,
    Running,
    Paused,
    /// <summary>The run ended (QEMU's "shutdown"); the process is about to exit.</summary>
    Shutdown,
}

public static class RunStatuses
{
    public static string Name(RunStatus s) => s switch
    {
        RunStatus.Prelaunch => "prelaunch",
        RunStatus.Running => "running",
        RunStatus.Paused => "paused",
        _ => "shutdown",
    };
}
