using Iced.Intel;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// One row of the sealed instruction class: a name, the Iced <see cref="Code"/> values that encode
/// it, an optional destination-register filter (for MOV to control register), and why it is sealed.
/// </summary>
public sealed record SealedInstructionKind(string Name, IReadOnlyList<Code> Codes, IReadOnlyList<Register>? Destinations, string Reason)
{
    /// <summary>The destination registers as text, e.g. "CR0, CR3, CR4", or empty when unfiltered.</summary>
    public string DestinationText => Destinations is null ? "" : string.Join(", ", Destinations.Select(r => r.ToString().ToUpperInvariant()));

    public bool Matches(in Instruction instruction) =>
        Destinations is null || Destinations.Contains(instruction.Op0Register);
}
