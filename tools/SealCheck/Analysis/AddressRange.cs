namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>A half-open virtual address range [Start, End).</summary>
public readonly record struct AddressRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;
    public bool IsEmpty => End <= Start;
    public bool Contains(ulong address) => address >= Start && address < End;
    public bool Overlaps(AddressRange other) => Start < other.End && other.Start < End;

    public override string ToString() => $"0x{Start:x}-0x{End:x}";
}
