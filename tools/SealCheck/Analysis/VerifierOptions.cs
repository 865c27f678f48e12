namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Knobs of one verification.</summary>
/// <param name="ScanOtherBitness">
/// Also decode every byte offset outside .heki.sealed with the other bitness (64-bit code as 32-bit
/// and vice versa). On by default: see README.md, "Why both bitnesses".
/// </param>
public sealed record VerifierOptions(bool ScanOtherBitness = true)
{
    public static VerifierOptions Default { get; } = new();
}
