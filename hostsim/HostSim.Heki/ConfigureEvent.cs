namespace HekiGuest.HostSim.Heki;

/// <summary>
/// One accepted lock (docs/abi.md section 5): for a CR pin, the register and the full pinned
/// masks after the change; for PROTECT_MEMORY, the ranges it set.
/// </summary>
public sealed record ConfigureEvent(ConfigureSource Source, int Vcpu, ulong Rip)
{
    public int? Cr { get; init; }
    public ulong? PinnedHigh { get; init; }
    public ulong? PinnedLow { get; init; }
    public IReadOnlyList<ProtectedRange>? Ranges { get; init; }
}
