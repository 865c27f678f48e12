namespace HekiGuest.Elf;

/// <summary>Sizes and field offsets that differ between ELF32 and ELF64 (System V gABI).</summary>
/// <param name="Wide">True for ELF64: addresses, offsets and sizes are 8 bytes, else 4.</param>
internal sealed record ElfLayout(bool Wide, int HeaderSize, int ProgramHeaderSize, int SectionHeaderSize, int SymbolSize)
{
    public static readonly ElfLayout Elf32 = new(Wide: false, HeaderSize: 52, ProgramHeaderSize: 32, SectionHeaderSize: 40, SymbolSize: 16);

    public static readonly ElfLayout Elf64 = new(Wide: true, HeaderSize: 64, ProgramHeaderSize: 56, SectionHeaderSize: 64, SymbolSize: 24);

    // ELF header: e_entry, e_phoff, e_shoff, then the 16-bit fields after e_flags and e_ehsize.
    public int EntryOffset => 24;
    public int ProgramHeaderOffsetOffset => Wide ? 32 : 28;
    public int SectionHeaderOffsetOffset => Wide ? 40 : 32;
    public int ProgramEntrySizeOffset => Wide ? 54 : 42;
    public int ProgramCountOffset => Wide ? 56 : 44;
    public int SectionEntrySizeOffset => Wide ? 58 : 46;
    public int SectionCountOffset => Wide ? 60 : 48;
    public int NameTableIndexOffset => Wide ? 62 : 50;

    // Program header fields (p_flags moved behind the addresses in ELF64).
    public int SegmentFlagsOffset => Wide ? 4 : 24;
    public int SegmentFileOffsetOffset => Wide ? 8 : 4;
    public int SegmentVirtualAddressOffset => Wide ? 16 : 8;
    public int SegmentPhysicalAddressOffset => Wide ? 24 : 12;
    public int SegmentFileSizeOffset => Wide ? 32 : 16;
    public int SegmentMemorySizeOffset => Wide ? 40 : 20;
    public int SegmentAlignmentOffset => Wide ? 48 : 28;

    // Section header fields after sh_name and sh_type; the first four are words.
    public int SectionFlagsOffset => 8;
    public int SectionAddressOffset => Wide ? 16 : 12;
    public int SectionFileOffsetOffset => Wide ? 24 : 16;
    public int SectionSizeOffset => Wide ? 32 : 20;
    public int SectionLinkOffset => Wide ? 40 : 24;
    public int SectionInfoOffset => Wide ? 44 : 28;
    public int SectionAlignmentOffset => Wide ? 48 : 32;
    public int SectionEntrySizeFieldOffset => Wide ? 56 : 36;

    // Symbol fields after st_name (ELF64 moved st_info/st_other/st_shndx before the value).
    public int SymbolInfoOffset => Wide ? 4 : 12;
    public int SymbolSectionOffset => Wide ? 6 : 14;
    public int SymbolValueOffset => Wide ? 8 : 4;
    public int SymbolSizeOffset => Wide ? 16 : 8;

    // Section header 0 under extended numbering: sh_size (section count), sh_link (name table), sh_info (segment count).
    public int ExtendedCountOffset => Wide ? 32 : 20;
    public int ExtendedNameTableOffset => Wide ? 40 : 24;
    public int ExtendedSegmentCountOffset => Wide ? 44 : 28;
}
