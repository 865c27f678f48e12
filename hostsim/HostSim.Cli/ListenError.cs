namespace HekiGuest.HostSim.Cli;

/// <summary>A debugger or control endpoint could not listen (the port is in use): one line, exit code 75 (sysexits' EX_TEMPFAIL: try again or pick another port).</summary>
public sealed class ListenError(string message) : Exception(message)
{
    public const int ExitCode = 75;
}
