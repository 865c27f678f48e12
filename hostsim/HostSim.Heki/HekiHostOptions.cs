namespace HekiGuest.HostSim.Heki;

/// <summary>How host userspace configures the HekiGuest interface of one VM.</summary>
public sealed record HekiHostOptions
{
    public HekiHostProfile Profile { get; init; } = HekiHostProfile.Heki;

    public DenialPolicy OnDenial { get; init; } = DenialPolicy.Inject;

    /// <summary>Receives configure and denial events; null to drop them.</summary>
    public IHekiEventSink? Events { get; init; }

    /// <summary>Bits host userspace pins high before the first guest instruction (and again
    /// after every reset): CR0 and CR4 masks.</summary>
    public ulong PrePinCr0 { get; init; }

    public ulong PrePinCr4 { get; init; }

    /// <summary>Decides each denial's action instead of <see cref="OnDenial"/> when set.</summary>
    public IDenialArbiter? Arbiter { get; init; }
}
