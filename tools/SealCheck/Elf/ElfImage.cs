using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.Tools.SealCheck.Elf;

/// <summary>
/// A parsed ELF64 little-endian x86-64 executable: header fields, program headers, section headers
/// and the .symtab symbols. Parsing is defensive: every offset and size is bounds-checked against
/// the file, and any problem becomes an <see cref="ElfFormatException"/> with a one-line message.
/// </summary>
public sealed class ElfImage
{
    private readonly byte[] _data;

    private ElfImage(byte[] data, ushort type, ulong entry, IReadOnlyList<ElfSegment> segments,
        IReadOnlyList<ElfSection> sections, IReadOnlyList<ElfSymbol>? symbols)
    {
        _data = data;
        Type = type;
        Entry = entry;
        Segments = segments;
        Sections = sections;
        Symbols = symbols;
    }

    public ushort Type { get; }
    public ulong Entry { get; }
    public IReadOnlyList<ElfSegment> Segments { get; }
    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>The .symtab symbols, or null when the file has no .symtab (a stripped ELF).</summary>
    public IReadOnlyList<ElfSymbol>? Symbols { get; }

    public int FileLength => _data.Length;

    /// <summary>The file bytes [offset, offset+size); the range was validated when parsing.</summary>
    public ReadOnlySpan<byte> FileBytes(ulong offset, ulong size) => _data.AsSpan(checked((int)offset), checked((int)size));

    public static ElfImage Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 4 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
        {
            throw new ElfFormatException(data.Length == 0 ? "not an ELF file (empty file)" : "not an ELF file (bad magic)");
        }

        if (data.Length < ElfConstants.IdentSize)
        {
            throw new ElfFormatException($"truncated ELF: {data.Length} bytes, shorter than the {ElfConstants.IdentSize}-byte identification");
        }

        switch (data[4])
        {
            case ElfConstants.ClassElf64:
                break;
            case ElfConstants.ClassElf32:
                throw new ElfFormatException("32-bit ELF (ELFCLASS32) is not supported: the kernel must be ELF64 x86-64");
            default:
                throw new ElfFormatException($"invalid ELF class {data[4]}");
        }

        switch (data[5])
        {
            case ElfConstants.DataLittleEndian:
                break;
            case ElfConstants.DataBigEndian:
                throw new ElfFormatException("big-endian ELF is not supported: the kernel must be little-endian x86-64");
            default:
                throw new ElfFormatException($"invalid ELF data encoding {data[5]}");
        }

        if (data[6] != ElfConstants.CurrentVersion)
        {
            throw new ElfFormatException($"unsupported ELF identification version {data[6]}");
        }

        if (data.Length < ElfConstants.Elf64HeaderSize)
        {
            throw new ElfFormatException($"truncated ELF: {data.Length} bytes, shorter than the {ElfConstants.Elf64HeaderSize}-byte ELF64 header");
        }

        ReadOnlySpan<byte> header = data.AsSpan(0, ElfConstants.Elf64HeaderSize);
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
        uint phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[58..]);
        uint shnum = BinaryPrimitives.ReadUInt16LittleEndian(header[60..]);
        uint shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(header[62..]);

        if (machine != ElfConstants.MachineX86_64)
        {
            string name = machine == ElfConstants.MachineX86 ? " (i386)" : "";
            throw new ElfFormatException($"wrong machine {machine}{name}: expected x86-64 (EM_X86_64 = 62)");
        }

        if (type != ElfConstants.TypeExecutable)
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

            CheckTableEntrySize(shentsize, ElfConstants.Elf64SectionHeaderSize, "section");
            ReadOnlySpan<byte> first = Slice(data, shoff, ElfConstants.Elf64SectionHeaderSize, "section header 0");
            if (shnum == 0)
            {
                ulong extended = BinaryPrimitives.ReadUInt64LittleEndian(first[32..]);
                shnum = extended > int.MaxValue ? throw new ElfFormatException($"malformed ELF: section count {extended} is too large") : (uint)extended;
            }

            if (shstrndx == ElfConstants.ShnXindex)
            {
                shstrndx = BinaryPrimitives.ReadUInt32LittleEndian(first[40..]);
            }

            if (phnum == ElfConstants.PnXnum)
            {
                phnum = BinaryPrimitives.ReadUInt32LittleEndian(first[44..]);
            }
        }

        IReadOnlyList<ElfSegment> segments = ParseSegments(data, phoff, phentsize, phnum);
        IReadOnlyList<ElfSection> sections = ParseSections(data, shoff, shentsize, shnum, shstrndx);
        IReadOnlyList<ElfSymbol>? symbols = ParseSymbols(data, sections);
        return new ElfImage(data, type, entry, segments, sections, symbols);
    }

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

    private static IReadOnlyList<ElfSegment> ParseSegments(byte[] data, ulong phoff, ushort phentsize, uint phnum)
    {
        if (phnum == 0)
        {
            return [];
        }

        CheckTableEntrySize(phentsize, ElfConstants.Elf64ProgramHeaderSize, "program");
        ReadOnlySpan<byte> table = Slice(data, phoff, (ulong)phnum * ElfConstants.Elf64ProgramHeaderSize, "program header table");
        var segments = new List<ElfSegment>((int)phnum);
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> ph = table.Slice(i * ElfConstants.Elf64ProgramHeaderSize, ElfConstants.Elf64ProgramHeaderSize);
            var segment = new ElfSegment(
                Index: i,
                Type: BinaryPrimitives.ReadUInt32LittleEndian(ph),
                Flags: BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]),
                Offset: BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]),
                VirtualAddress: BinaryPrimitives.ReadUInt64LittleEndian(ph[16..]),
                PhysicalAddress: BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]),
                FileSize: BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]),
                MemorySize: BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]),
                Alignment: BinaryPrimitives.ReadUInt64LittleEndian(ph[48..]));
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

                if (segment.MemorySize > ulong.MaxValue - segment.VirtualAddress)
                {
                    throw new ElfFormatException($"malformed ELF: {segment.Name} at 0x{segment.VirtualAddress:x} with size 0x{segment.MemorySize:x} wraps the address space");
                }
            }

            segments.Add(segment);
        }

        return segments;
    }

    private static IReadOnlyList<ElfSection> ParseSections(byte[] data, ulong shoff, ushort shentsize, uint shnum, uint shstrndx)
    {
        if (shoff == 0 || shnum == 0)
        {
            return [];
        }

        CheckTableEntrySize(shentsize, ElfConstants.Elf64SectionHeaderSize, "section");
        ReadOnlySpan<byte> table = Slice(data, shoff, (ulong)shnum * ElfConstants.Elf64SectionHeaderSize, "section header table");
        if (shstrndx == ElfConstants.ShnUndef || shstrndx >= shnum)
        {
            throw new ElfFormatException($"malformed ELF: section name string table index {shstrndx} is out of range (0..{shnum - 1})");
        }

        // Read every header with a placeholder name, then resolve names from the string table.
        var unnamed = new List<ElfSection>((int)shnum);
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = table.Slice(i * ElfConstants.Elf64SectionHeaderSize, ElfConstants.Elf64SectionHeaderSize);
            var section = new ElfSection(
                Index: i,
                Name: "",
                Type: BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]),
                Flags: BinaryPrimitives.ReadUInt64LittleEndian(sh[8..]),
                Address: BinaryPrimitives.ReadUInt64LittleEndian(sh[16..]),
                Offset: BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]),
                Size: BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]),
                Link: BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]),
                Info: BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]),
                AddressAlignment: BinaryPrimitives.ReadUInt64LittleEndian(sh[48..]),
                EntrySize: BinaryPrimitives.ReadUInt64LittleEndian(sh[56..]));
            if (section.HasFileContents && section.Type != ElfConstants.ShtNull && !Fits(data, section.Offset, section.Size))
            {
                throw new ElfFormatException($"truncated ELF: section {i} contents at file offset 0x{section.Offset:x} (+0x{section.Size:x} bytes) extend past the end of the {data.Length}-byte file");
            }

            if (section.IsAllocated && section.Size > ulong.MaxValue - section.Address)
            {
                throw new ElfFormatException($"malformed ELF: section {i} at 0x{section.Address:x} with size 0x{section.Size:x} wraps the address space");
            }

            unnamed.Add(section);
        }

        ElfSection nameTable = unnamed[(int)shstrndx];
        if (nameTable.Type != ElfConstants.ShtStrtab)
        {
            throw new ElfFormatException($"malformed ELF: section name string table (section {shstrndx}) has type {nameTable.Type}, expected SHT_STRTAB");
        }

        ReadOnlySpan<byte> names = data.AsSpan((int)nameTable.Offset, (int)nameTable.Size);
        var sections = new List<ElfSection>((int)shnum);
        for (int i = 0; i < shnum; i++)
        {
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(table[(i * ElfConstants.Elf64SectionHeaderSize)..]);
            sections.Add(unnamed[i] with { Name = ReadString(names, nameOffset, $"name of section {i}") });
        }

        return sections;
    }

    private static IReadOnlyList<ElfSymbol>? ParseSymbols(byte[] data, IReadOnlyList<ElfSection> sections)
    {
        ElfSection? symtab = sections.FirstOrDefault(s => s.Type == ElfConstants.ShtSymtab);
        if (symtab is null)
        {
            return null;
        }

        if (symtab.EntrySize != ElfConstants.Elf64SymbolSize)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} entry size is {symtab.EntrySize}, expected {ElfConstants.Elf64SymbolSize}");
        }

        if (symtab.Size % ElfConstants.Elf64SymbolSize != 0)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} size 0x{symtab.Size:x} is not a multiple of {ElfConstants.Elf64SymbolSize}");
        }

        if (symtab.Link == 0 || symtab.Link >= sections.Count || sections[(int)symtab.Link].Type != ElfConstants.ShtStrtab)
        {
            throw new ElfFormatException($"malformed ELF: {symtab.Name} links to section {symtab.Link}, which is not a string table");
        }

        ElfSection strtab = sections[(int)symtab.Link];
        ReadOnlySpan<byte> strings = data.AsSpan((int)strtab.Offset, (int)strtab.Size);
        ReadOnlySpan<byte> table = data.AsSpan((int)symtab.Offset, (int)symtab.Size);
        int count = (int)(symtab.Size / ElfConstants.Elf64SymbolSize);
        var symbols = new List<ElfSymbol>(count);
        for (int i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> entry = table.Slice(i * ElfConstants.Elf64SymbolSize, ElfConstants.Elf64SymbolSize);
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            byte info = entry[4];
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
            string name = ReadString(strings, nameOffset, $"name of symbol {i}");
            symbols.Add(new ElfSymbol(name, value, size, (byte)(info & 0xf), (byte)(info >> 4), shndx));
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
