namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>What one seed did: its mode, how it ended, its counters, and its failures (none when clean).</summary>
public sealed record SeedResult(
    long Seed,
    FuzzMode Mode,
    SeedStop Stop,
    long Instructions,
    TimeSpan Elapsed,
    long ExceptionsDelivered,
    int[] DenialsByKind,
    int UnimplementedStops,
    int HaltsResumed,
    int ExitsResumed,
    IReadOnlyList<string> UnimplementedMnemonics,
    string? TripleFaultChain,
    IReadOnlyList<SeedFailure> Failures)
{
    public bool Failed => Failures.Count > 0;

    public int Denials => DenialsByKind.Sum();
}
