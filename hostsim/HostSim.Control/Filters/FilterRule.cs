namespace HekiGuest.HostSim.Control.Filters;

/// <summary>
/// One filter rule: either CR bits (<see cref="Cr"/> 0 or 4, <see cref="Bits"/>, <see cref="Trigger"/>)
/// or an MSR (<see cref="Msr"/>: every WRMSR to it traps), with the host's <see cref="Action"/>.
/// </summary>
public sealed record FilterRule(FilterAction Action)
{
    public int? Cr { get; init; }
    public ulong Bits { get; init; }
    public CrTrigger Trigger { get; init; } = CrTrigger.Change;
    public uint? Msr { get; init; }

    /// <summary>CR registers a rule may name: CR0 and CR4 (the pinnable ones).</summary>
    public static bool IsFilterableCr(int cr) => cr is 0 or 4;
}
