namespace HekiGuest.HostSim.Cli;

/// <summary>Bad command-line input: reported as one line, exit code 2.</summary>
public sealed class UsageError(string message) : Exception(message);
