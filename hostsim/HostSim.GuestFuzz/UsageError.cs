namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>A bad command line: reported as one line, exit code 2.</summary>
public sealed class UsageError(string message) : Exception(message);
