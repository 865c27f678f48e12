namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>A range of 32-bit protected-mode code, delimited by __heki_code32_start/end{Suffix}.</summary>
public sealed record Code32Range(string Suffix, AddressRange Range)
{
    public const string StartPrefix = "__heki_code32_start";
    public const string EndPrefix = "__heki_code32_end";

    public string StartSymbol => StartPrefix + Suffix;
    public string EndSymbol => EndPrefix + Suffix;
}
