namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>One reason a seed failed, with a one-line message and optional detail lines
/// (stack frames, the instruction in progress) and a signature that groups failures of one cause.</summary>
public sealed record SeedFailure(FailureKind Kind, string Message, IReadOnlyList<string> Detail)
{
    /// <summary>What failures of the same cause share, for grouping in the summary (e.g. "hang in rep stosb").</summary>
    public string Signature { get; init; } = Kind.ToString();

    public override string ToString() => Detail.Count == 0 ? $"{Kind}: {Message}" : $"{Kind}: {Message}\n    " + string.Join("\n    ", Detail);
}
