namespace HekiGuest.Elf;

/// <summary>One .symtab entry with its resolved name.</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, byte Type, byte Binding, ushort SectionIndex)
{
    public bool IsDefined => SectionIndex != ElfConstants.ShnUndef;
    public bool IsCodeLabel => Type is ElfConstants.SttFunc or ElfConstants.SttNotype;
}
