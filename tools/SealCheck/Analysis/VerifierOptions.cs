namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Knobs of one verification.</summary>
/// <param name="ScanOtherBitness">
/// Also decode every byte offset outside .heki.sealed with the other bitness (64-bit code as 32-bit
/// and vice versa). On by default: see README.md, "Why both bitnesses".
/// </param>
/// <param name="FullDecode">
/// Run the Iced decoder at literally every byte offset instead of only at offsets that pass the
/// exact <see cref="EncodingPrecheck"/>. Same findings, several times slower; for cross-checking.
/// </param>
public sealed record VerifierOptions(bool ScanOtherBitness = true, bool FullDecode = false)
{
    public static VerifierOptions Default { get; } = new();
}
