using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.Elf;

/// <summary>
/// A parsed little-endian x86 ELF file (ELF32 i386 or ELF64 x86-64): header fields, program
/// headers, section headers, the .symtab symbols and the PT_NOTE notes. The one ELF reader of the
/// project: hostsim's loader and sealcheck both use it. Parsing is defensive: every offset and size
/// is bounds-checked against the file, and any problem becomes an <see cref="ElfFormatException"/>
/// with a one-line message.
/// </summary>
public sealed class ElfImage
{
    private readonly byte[] _data;

    private ElfImage(byte[] data) => _data = data;

    public ElfClass Class { get; private init; }
    public ushort Type { get; private init; }
    public ushort Machine { get; private init; }
    public ulong Entry { get; private init; }
    public IReadOnlyList<ElfSegment> Segments { get; private init; } = [];
    public IReadOnlyList<ElfSection> Sections { get; private init; } = [];

    /// <summary>The .symtab symbols, or null when the file has no .symtab (a stripped ELF).</summary>
    public IReadOnlyList<ElfSymbol>? Symbols { get; private init; }

    public int FileLength => _data.Length;

    /// <summary>True when <paramref name="data"/> starts with the \x7fELF magic.</summary>
    public static bool HasElfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7f && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    /// <summary>
    /// The file bytes [offset, offset+size). Ranges of PT_LOAD segments and of sections with file
    /// contents were validated when parsing; any other range is checked here.
    /// </summary>
    public ReadOnlySpan<byte> FileBytes(ulong offset, ulong size) => Slice(_data, offset, size, "file range");

    /// <summary>The notes of every PT_NOTE segment, in file order.</summary>
    public IReadOnlyList<ElfNote> Notes()
    {
        var notes = new List<ElfNote>();
        foreach (ElfSegment segment in Segments)
        {
            if (!segment.IsNote)
            {
                continue;
            }

            ReadOnlySpan<byte> span = Slice(_data, segment.Offset, segment.FileSize, $"PT_NOTE[{segment.Index}]");
            int pos = 0;
            while (pos + 12 <= span.Length)
            {
                uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(span[pos..]);
                uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 4)..]);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 8)..]);
                pos += 12;
                long nameEnd = pos + (long)nameSize;
                long descStart = pos + (((long)nameSize + 3) & ~3L);
                long descEnd = descStart + descSize;
                if (nameEnd > span.Length || descEnd > span.Length)
                {
                    throw new ElfFormatException($"malformed ELF: a note runs past the end of its PT_NOTE[{segment.Index}] segment");
                }

                string name = Encoding.ASCII.GetString(span[pos..(int)nameEnd]).TrimEnd('\0');
                notes.Add(new ElfNote(name, type, span[(int)descStart..(int)descEnd].ToArray()));
                pos = (int)((descEnd + 3) & ~3L);
            }
        }

        return notes;
    }

    /// <summary>Parses any well-formed ELF32 i386 or ELF64 x86-64 image.</summary>
    public static ElfImage Parse(byte[] data) => Parse(data, ElfRequirements.AnyX86);

    /// <summary>Parses <paramref name="data"/> and checks <paramref name="requirements"/>.</summary>
    public static ElfImage Parse(byte[] data, ElfRequirements requirements)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(requirements);
        if (!HasElfMagic(data))
        {
            throw new ElfFormatException(data.Length == 0 ? "not an ELF file (empty file)" : "not an ELF file (bad magic)");
        }

        if (data.Length < ElfConstants.IdentSize)
        {
            throw new ElfFormatException($"truncated ELF: {data.Length} bytes, shorter than the {ElfConstants.IdentSize}-byte identification");
        }

        ElfLayout layout;
        switch (data[4])
        {
            case ElfConstants.ClassElf64:
                layout = ElfLayout.Elf64;
                break;
            case ElfConstants.ClassElf32 when requirements.Elf64Only:
                throw new ElfFormatException("32-bit ELF (ELFCLASS32) is not supported: the kernel must be ELF64 x86-64");
            case ElfConstants.ClassElf32:
                layout = ElfLayout.Elf32;
                break;
            default:
                throw new ElfFormatException($"invalid ELF class {data[4]}");
        }

        switch (data[5])
        {
            case ElfConstants.DataLittleEndian:
                break;
            case ElfConstants.DataBigEndian:
                throw new ElfFormatException("big-endian ELF is not supported: x86 images are little-endian");
            default:
                throw new ElfFormatException($"invalid ELF data encoding {data[5]}");
        }

        if (data[6] != ElfConstants.CurrentVersion)
        {
            throw new ElfFormatException($"unsupported ELF identification version {data[6]}");
        }

        if (data.Length < layout.HeaderSize)
        {
            string which = layout.Wide ? "ELF64" : "ELF32";
            throw new ElfFormatException($"truncated ELF: {data.Length} bytes, shorter than the {layout.HeaderSize}-byte {which} header");
        }

        ReadOnlySpan<byte> header = data.AsSpan(0, layout.HeaderSize);
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        ulong entry = Word(header, layout.EntryOffset, layout);
        ulong phoff = Word(header, layout.ProgramHeaderOffsetOffset, layout);
        ulong shoff = Word(header, layout.SectionHeaderOffsetOffset, layout);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[layout.ProgramEntrySizeOffset..]);
        uint phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[layout.ProgramCountOffset..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[layout.SectionEntrySizeOffset..]);
        uint shnum = BinaryPrimitives.ReadUInt16LittleEndian(header[layout.SectionCountOffset..]);
        uint shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(header[layout.NameTableIndexOffset..]);

        if (layout.Wide && machine != ElfConstants.MachineX86_64)
        {
            string name = machine == ElfConstants.MachineX86 ? " (i386)" : "";
            throw new ElfFormatException($"wrong machine {machine}{name}: expected x86-64 (EM_X86_64 = 62)");
        }

        if (!layout.Wide && machine != ElfConstants.MachineX86)
        {
            string name = machine == ElfConstants.MachineX86_64 ? " (x86-64)" : "";
            throw new ElfFormatException($"wrong machine {machine}{name}: an ELF32 image must be i386 (EM_386 = 3)");
        }

        if (requirements.ExecutableOnly && type != ElfConstants.TypeExecutable)
        {
            throw new ElfFormatException($"ELF type {TypeName(type)} is not supported: expected ET_EXEC (a non-PIE kernel executable)");
        }

        // Extended numbering: counts that do not fit 16 bits live in section header 0.
        if ((shnum == 0 && shoff != 0) || shstrndx == ElfConstants.ShnXindex || phnum == ElfConstants.PnXnum)
        {
            if (shoff == 0)
            {
                throw new ElfFormatException("malformed ELF: extended numbering without a section header table");
            }

            CheckTableEntrySize(shentsize, layout.SectionHeaderSize, "section");
            ReadOnlySpan<byte> first = Slice(data, shoff, (ulong)layout.SectionHeaderSize, "section header 0");
            if (shnum == 0)
            {
                ulong extended = Word(first, layout.ExtendedCountOffset, layout);
                shnum = extended > int.MaxValue ? throw new ElfFormatException($"malformed ELF: section count {extended} is too large") : (uint)extended;
            }

            if (shstrndx == ElfConstants.ShnXindex)
            {
                shstrndx = BinaryPrimitives.ReadUInt32LittleEndian(first[layout.ExtendedNameTableOffset..]);
            }

            if (phnum == ElfConstants.PnXnum)
            {
                phnum = BinaryPrimitives.ReadUInt32LittleEndian(first[layout.ExtendedSegmentCountOffset..]);
            }
        }

        IReadOnlyList<ElfSegment> segments = ParseSegments(data, layout, requirements, phoff, phentsize, phnum);
        IReadOnlyList<ElfSection> sections = ParseSections(data, layout, requirements, shoff, shentsize, shnum, shstrndx);
        return new ElfImage(data)
        {
            Class = layout.Wide ? ElfClass.Elf64 : ElfClass.Elf32,
            Type = type,
            Machine = machine,
            Entry = entry,
            Segments = segments,
            Sections = sections,
            Symbols = ParseSymbols(data, layout, sections),
        };
    }

    private static ulong Word(ReadOnlySpan<byte> span, int offset, ElfLayout layout) =>
        layout.Wide ? BinaryPrimitives.ReadUInt64LittleEndian(span[offset..]) : BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);

    private static string TypeName(ushort type) => type switch
    {
        ElfConstants.TypeRelocatable => "ET_REL (1)",
        ElfConstants.TypeShared => "ET_DYN (3)",
        ElfConstants.TypeCore => "ET_CORE (4)",
        _ => $"{type}",
    };

    private static void CheckTableEntrySize(ushort actual, int expected, string what)
    {
        if (actual != expected)
        {
            throw new ElfFormatException($"malformed ELF: {what} header entry size is {actual}, expected {expected}");
        }
    }

    /// <summary>Bounds-checked slice of the file; names <paramref name="what"/> when it does not fit.</summary>
    private static ReadOnlySpan<byte> Slice(byte[] data, ulong offset, ulong size, string what)
    {
        if (!Fits(data, offset, size))
        {
            throw new ElfFormatException($"truncated ELF: {what} at file offset 0x{offset:x} (+0x{size:x} bytes) extends past the end of the {data.Length}-byte file");
        }

        return data.AsSpan((int)offset, (int)size);
    }

    private static bool Fits(byte[] data, ulong offset, ulong size) =>
        offset <= (ulong)data.Length && size <= (ulong)data.Length - offset;

    private static IReadOnlyList<ElfSegment> ParseSegments(
        byte[] data, ElfLayout layout, ElfRequirements requirements, ulong phoff, ushort phentsize, uint phnum)
    {
        if (phnum == 0)
        {
            return [];
        }

        int entrySize = layout.ProgramHeaderSize;
        CheckTableEntrySize(phentsize, entrySize, "program");
        ReadOnlySpan<byte> table = Slice(data, phoff, (ulong)phnum * (ulong)entrySize, "program header table");
        var segments = new List<ElfSegment>((int)phnum);
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> ph = table.Slice(i * entrySize, entrySize);
            var segment = new ElfSegment(
                Index: i,
                Type: BinaryPrimitives.ReadUInt32LittleEndian(ph),
                Flags: BinaryPrimitives.ReadUInt32LittleEndian(ph[layout.SegmentFlagsOffset..]),
                Offset: Word(ph, layout.SegmentFileOffsetOffset, layout),
                VirtualAddress: Word(ph, layout.SegmentVirtualAddressOffset, layout),
                PhysicalAddress: Word(ph, layout.SegmentPhysicalAddressOffset, layout),
                FileSize: Word(ph, layout.SegmentFileSizeOffset, layout),
                MemorySize: Word(ph, layout.SegmentMemorySizeOffset, layout),
                Alignment: Word(ph, layout.SegmentAlignmentOffset, layout));
            if (segment.IsLoad)
            {
                if (!Fits(data, segment.Offset, segment.FileSize))
                {
                    throw new ElfFormatException($"truncated ELF: {segment.Name} file bytes 0x{segment.Offset:x}+0x{segment.FileSize:x} extend past the end of the {data.Length}-byte file");
                }

                if (segment.FileSize > segment.MemorySize)
                {
                    throw new ElfFormatException($"malformed ELF: {segment.Name} file size 0x{segment.FileSize:x} exceeds its memory size 0x{segment.MemorySize:x}");
                }

                if (requirements.RejectAddressWrap && segment.MemorySize > ulong.MaxValue - segment.VirtualAddress)
                {
                    throw new ElfFormatException($"malformed ELF: {segment.Name} at 0x{segment.VirtualAddress:x} with size 0x{segment.MemorySize:x} wraps the address space");
                }
            }

            segments.Add(segment);
        }

        return segments;
    }

    private static IReadOnlyList<ElfSection> ParseSections(
        byte[] data, ElfLayout layout, ElfRequirements requirements, ulong shoff, ushort shentsize, uint shnum, uint shstrndx)
    {
        if (shoff == 0 || shnum == 0)
        {
            return [];
        }

        int entrySize = layout.SectionHeaderSize;
        CheckTableEntrySize(shentsize, entrySize, "section");
        ReadOnlySpan<byte> table = Slice(data, shoff, (ulong)shnum * (ulong)entrySize, "section header table");
        if (shstrndx == ElfConstants.ShnUndef || shstrndx >= shnum)
        {
            throw new ElfFormatException($"malformed ELF: section name string table index {shstrndx} is out of range (0..{shnum - 1})");
        }

        // Read every header with a placeholder name, then resolve names from the string table.
        // Plain arrays and loops: generic framework code over this file's value types would have to be
        // JIT-compiled at start-up of a ReadyToRun tool (it cannot be precompiled across assemblies).
        var unnamed = new ElfSection[shnum];
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = table.Slice(i * entrySize, entrySize);
            var section = new ElfSection(
                Index: i,
                Name: "",
                Type: BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]),
                Flags: Word(sh, layout.SectionFlagsOffset, layout),
                Address: Word(sh, layout.SectionAddressOffset, layout),
                Offset: Word(sh, layout.SectionFileOffsetOffset, layout),
                Size: Word(sh, layout.SectionSizeOffset, layout),
                Link: BinaryPrimitives.ReadUInt32LittleEndian(sh[layout.SectionLinkOffset..]),
                Info: BinaryPrimitives.ReadUInt32LittleEndian(sh[layout.SectionInfoOffset..]),
                AddressAlignment: Word(sh, layout.SectionAlignmentOffset, layout),
                EntrySize: Word(sh, layout.SectionEntrySizeFieldOffset, layout));
            if (section.HasFileContents && section.Type != ElfConstants.ShtNull && !Fits(data, section.Offset, section.Size))
            {
                throw new ElfFormatException($"truncated ELF: section {i} contents at file offset 0x{section.Offset:x} (+0x{section.Size:x} bytes) extend past the end of the {data.Length}-byte file");
            }

            if (requirements.RejectAddressWrap && section.IsAllocated && section.Size > ulong.MaxValue - section.Address)
            {
                throw new ElfFormatException($"malformed ELF: section {i} at 0x{section.Address:x} with size 0x{section.Size:x} wraps the address space");
            }

            unnamed[i] = section;
        }

        ElfSection nameTable = unnamed[(int)shstrndx];
        if (nameTable.Type != ElfConstants.ShtStrtab)
        {
            throw new ElfFormatException($"malformed ELF: section name string table (section {shstrndx}) has type {nameTable.Type}, expected SHT_STRTAB");
        }

        ReadOnlySpan<byte> names = data.AsSpan((int)nameTable.Offset, (int)nameTable.Size);
        var sections = new ElfSection[shnum];
        for (int i = 0; i < shnum; i++)
        {
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(table[(i * entrySize)..]);
            sections[i] = unnamed[i] with { Name = ReadString(names, nameOffset, $"name of section {i}") };
        }

        return sections;
    }

    private static IReadOnlyList<ElfSymbol>? ParseSymbols(byte[] data, ElfLayout layout, IReadOnlyList<ElfSection> sections)
    {
        ElfSection? symtab = null;
        for (int i = 0; i < sections.Count; i++)
        {
            if (sections[i].Type == ElfConstants.ShtSymtab)
            {
                symtab = sections[i];
                break;
            }
        }

        if (symtab is null)
        {
            return null;
        }

        int entrySize = layout.SymbolSize;
        if (symtab.EntrySize != (ulong)entrySize)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} entry size is {symtab.EntrySize}, expected {entrySize}");
        }

        if (symtab.Size % (ulong)entrySize != 0)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} size 0x{symtab.Size:x} is not a multiple of {entrySize}");
        }

        if (symtab.Link == 0 || symtab.Link >= sections.Count || sections[(int)symtab.Link].Type != ElfConstants.ShtStrtab)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} links to section {symtab.Link}, which is not a string table");
        }

        ElfSection strtab = sections[(int)symtab.Link];
        ReadOnlySpan<byte> strings = data.AsSpan((int)strtab.Offset, (int)strtab.Size);
        ReadOnlySpan<byte> table = data.AsSpan((int)symtab.Offset, (int)symtab.Size);
        int count = (int)(symtab.Size / (ulong)entrySize);
        var symbols = new ElfSymbol[Math.Max(count - 1, 0)];
        for (int i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> entry = table.Slice(i * entrySize, entrySize);
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            byte info = entry[layout.SymbolInfoOffset];
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(entry[layout.SymbolSectionOffset..]);
            ulong value = Word(entry, layout.SymbolValueOffset, layout);
            ulong size = Word(entry, layout.SymbolSizeOffset, layout);
            string name = ReadString(strings, nameOffset, $"name of symbol {i}");
            symbols[i - 1] = new ElfSymbol(name, value, size, (byte)(info & 0xf), (byte)(info >> 4), shndx);
        }

        return symbols;
    }

    private static string ReadString(ReadOnlySpan<byte> table, uint offset, string what)
    {
        if (offset >= (uint)table.Length)
        {
            throw new ElfFormatException($"malformed ELF: {what} at string offset {offset} is outside its {table.Length}-byte string table");
        }

        ReadOnlySpan<byte> rest = table[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new ElfFormatException($"malformed ELF: {what} at string offset {offset} is not NUL-terminated");
        }

        return Encoding.UTF8.GetString(rest[..end]);
    }
}
