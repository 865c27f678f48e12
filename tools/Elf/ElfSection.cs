namespace HekiGuest.Elf;

/// <summary>One section header with its resolved name.</summary>
public sealed record ElfSection(
    int Index, string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size,
    uint Link, uint Info, ulong AddressAlignment, ulong EntrySize)
{
    public bool IsAllocated => (Flags & ElfConstants.ShfAlloc) != 0;
    public bool IsExecutable => (Flags & ElfConstants.ShfExecInstr) != 0;
    public bool IsWritable => (Flags & ElfConstants.ShfWrite) != 0;
    public bool HasFileContents => Type != ElfConstants.ShtNobits;
    public ulong EndAddress => Address + Size;
}
