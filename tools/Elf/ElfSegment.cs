namespace HekiGuest.Elf;

/// <summary>One program header. <see cref="Index"/> is its position in the program header table.</summary>
public sealed record ElfSegment(
    int Index, uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Alignment)
{
    public bool IsLoad => Type == ElfConstants.PtLoad;
    public bool IsNote => Type == ElfConstants.PtNote;
    public bool IsExecutable => (Flags & ElfConstants.PfExecute) != 0;
    public bool IsWritable => (Flags & ElfConstants.PfWrite) != 0;
    public bool IsReadable => (Flags & ElfConstants.PfRead) != 0;
    public ulong EndAddress => VirtualAddress + MemorySize;

    public string Name => $"PT_LOAD[{Index}]";

    public string FlagText =>
        $"{(IsReadable ? "R" : "-")}{(IsWritable ? "W" : "-")}{(IsExecutable ? "X" : "-")}";
}
