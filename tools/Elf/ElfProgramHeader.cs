namespace HekiGuest.Elf;

/// <summary>One program header (segment).</summary>
public sealed record ElfProgramHeader(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress, ulong FileSize, ulong MemorySize, ulong Align)
{
    public const uint Load = 1;
    public const uint Note = 4;
    public const uint FlagExecute = 1;
    public const uint FlagWrite = 2;
    public const uint FlagRead = 4;

    public bool IsLoad => Type == Load;
    public bool IsNote => Type == Note;
}
