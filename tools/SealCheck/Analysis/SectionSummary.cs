namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Per executable section (or unnamed part of an executable segment) counters.</summary>
public sealed class SectionSummary(string name, AddressRange range, bool isSealed)
{
    public string Name { get; } = name;
    public AddressRange Range { get; } = range;
    public bool IsSealed { get; } = isSealed;
    public ulong Bytes => Range.Length;
    public ulong Bytes32 { get; set; }
    public long Instructions { get; set; }
    public long UndecodableBytes { get; set; }
    public long SealedInside { get; set; }
    public long SealedOutside { get; set; }
    public long Gadgets { get; set; }

    public string BitnessText => Bytes32 == 0 ? "64" : Bytes32 == Bytes ? "32" : "32+64";
}
