namespace HekiGuest.HostSim.Control.Policy;

/// <summary>A policy file that cannot be used: one line, "FILE:LINE: KEY: what is wrong".</summary>
public sealed class PolicyError(string message) : Exception(message)
{
    /// <summary>hostsim's exit code for a bad policy file (sysexits' EX_CONFIG).</summary>
    public const int ExitCode = 78;
}
