namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>One exception in a delivery chain (for crash reports): vector, error code, CR2, RIP.</summary>
public readonly record struct FaultChainEntry(byte Vector, uint? ErrorCode, ulong Cr2, ulong Rip);
