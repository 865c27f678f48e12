namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Wall-clock deadline and instruction budget for one run (null = unlimited). The budget
/// counts instructions retired (each REP string iteration is one) plus exceptions delivered, so
/// a guest that only takes faults also runs out of it.</summary>
public sealed record RunLimits(TimeSpan? Timeout, long? MaxInstructions);
