namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Wall-clock deadline and instruction budget for one run (null = unlimited).</summary>
public sealed record RunLimits(TimeSpan? Timeout, long? MaxInstructions);
