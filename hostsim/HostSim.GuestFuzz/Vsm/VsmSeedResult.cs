namespace HekiGuest.HostSim.GuestFuzz.Vsm;

/// <summary>What one VSM fuzzer seed did, and its failure if any.</summary>
internal sealed class VsmSeedResult(long seed)
{
    public long Seed { get; } = seed;
    public string? Failure { get; set; }
    public int Steps { get; set; }
    public int StepsInVtl1 { get; set; }
    public int Hypercalls { get; set; }
    public int TripleFaults { get; set; }
    public long Intercepts { get; set; }
    public long VtlSwitches { get; set; }
    public long ProtectionChanges { get; set; }
    internal bool LastWasHypercall { get; set; }

    /// <summary>Hypercall results seen, by status.</summary>
    public Dictionary<ushort, int> Statuses { get; } = [];

    public void CountStatus(ushort status) => Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
}
