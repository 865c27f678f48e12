namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>One reason a seed failed, with a one-line message and optional detail lines
/// (stack frames, the instruction in progress).</summary>
public sealed record SeedFailure(FailureKind Kind, string Message, IReadOnlyList<string> Detail)
{
    public override string ToString() => Detail.Count == 0 ? $"{Kind}: {Message}" : $"{Kind}: {Message}\n    " + string.Join("\n    ", Detail);
}
