namespace HekiGuest.Elf;

/// <summary>One section header, with its name resolved.</summary>
public sealed record ElfSectionHeader(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize)
{
    public const uint SymbolTable = 2;
    public const uint NoBits = 8;
    public const ulong FlagAlloc = 2;
    public const ulong FlagExecute = 4;
}
