namespace HekiGuest.Tests.Boot;

/// <summary>What a boot produced: exit status, whether the deadline struck, and the serial transcript.</summary>
public sealed class BootOutcome
{
    private readonly Lazy<Transcript> transcript;

    /// <summary>Creates an outcome; the transcript is parsed on first use.</summary>
    public BootOutcome(
        string hostName,
        BootRequest request,
        string invocation,
        int? exitCode,
        bool timedOut,
        TimeSpan elapsed,
        string serialText,
        string hostDiagnostics,
        string? serialLogPath)
    {
        HostName = hostName;
        Request = request;
        Invocation = invocation;
        ExitCode = exitCode;
        TimedOut = timedOut;
        Elapsed = elapsed;
        SerialText = serialText;
        HostDiagnostics = hostDiagnostics;
        SerialLogPath = serialLogPath;
        transcript = new Lazy<Transcript>(() => TranscriptParser.Parse(serialText));
    }

    /// <summary>Which host ran the boot ("qemu", later "hostsim").</summary>
    public string HostName { get; }

    /// <summary>The request that produced this outcome.</summary>
    public BootRequest Request { get; }

    /// <summary>The command that was run, quoted for a shell, so a person can repeat it.</summary>
    public string Invocation { get; }

    /// <summary>The host process's exit code, or null when it was killed at the deadline.</summary>
    public int? ExitCode { get; }

    /// <summary>True when the deadline passed and the host's process tree was killed.</summary>
    public bool TimedOut { get; }

    /// <summary>Wall time from start to exit or kill.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Everything the guest wrote to its serial port.</summary>
    public string SerialText { get; }

    /// <summary>The host's own stdout and stderr (e.g. QEMU's error messages), not the guest's.</summary>
    public string HostDiagnostics { get; }

    /// <summary>Where the full serial log was kept, if it was written to a file.</summary>
    public string? SerialLogPath { get; }

    /// <summary>The host's HekiGuest event log (JSON lines), when the host writes one (hostsim).</summary>
    public string? EventsLogPath { get; init; }

    /// <summary>The parsed serial transcript.</summary>
    public Transcript Transcript => transcript.Value;
}
