namespace HekiGuest.Tests.Boot;

/// <summary>How a child process ended.</summary>
/// <param name="ExitCode">The exit code, or null when it was killed at the deadline.</param>
/// <param name="TimedOut">True when the deadline passed and the process tree was killed.</param>
/// <param name="Elapsed">Wall time from start to exit or kill.</param>
/// <param name="StandardOutput">Everything the process wrote to stdout.</param>
/// <param name="StandardError">Everything the process wrote to stderr.</param>
public sealed record ProcessRunResult(
    int? ExitCode,
    bool TimedOut,
    TimeSpan Elapsed,
    string StandardOutput,
    string StandardError);
