namespace HekiGuest.Elf;

/// <summary>The numeric ELF constants the reader and its users need (System V gABI, the i386 and x86-64 psABIs).</summary>
public static class ElfConstants
{
    public const int IdentSize = 16;
    public const int Elf64HeaderSize = 64;
    public const int Elf64ProgramHeaderSize = 56;
    public const int Elf64SectionHeaderSize = 64;
    public const int Elf64SymbolSize = 24;

    public const byte ClassElf32 = 1;
    public const byte ClassElf64 = 2;
    public const byte DataLittleEndian = 1;
    public const byte DataBigEndian = 2;
    public const byte CurrentVersion = 1;

    public const ushort TypeRelocatable = 1;
    public const ushort TypeExecutable = 2;
    public const ushort TypeShared = 3;
    public const ushort TypeCore = 4;

    public const ushort MachineX86 = 3;
    public const ushort MachineX86_64 = 62;

    public const uint PtLoad = 1;
    public const uint PtNote = 4;
    public const uint PfExecute = 1;
    public const uint PfWrite = 2;
    public const uint PfRead = 4;

    public const uint ShtNull = 0;
    public const uint ShtSymtab = 2;
    public const uint ShtStrtab = 3;
    public const uint ShtNobits = 8;

    public const ulong ShfWrite = 0x1;
    public const ulong ShfAlloc = 0x2;
    public const ulong ShfExecInstr = 0x4;
    public const ulong ShfTls = 0x400;

    public const ushort ShnUndef = 0;
    public const ushort ShnLoReserve = 0xff00;
    public const ushort ShnAbs = 0xfff1;
    public const ushort ShnXindex = 0xffff;
    public const ushort PnXnum = 0xffff;

    public const byte SttNotype = 0;
    public const byte SttObject = 1;
    public const byte SttFunc = 2;
    public const byte SttSection = 3;
    public const byte SttFile = 4;

    public const ulong PageSize = 4096;
}
