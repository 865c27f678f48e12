using System.Buffers.Binary;
using System.Text;
using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Synthetic;

/// <summary>
/// Writes small ELF64 x86-64 executables: sections at chosen addresses, PT_LOAD segments that cover
/// listed sections, and a .symtab. Used for the benchmark sample and by the tests to craft inputs.
/// </summary>
public sealed class ElfImageBuilder
{
    private readonly List<SectionSpec> _sections = [];
    private readonly List<SegmentSpec> _segments = [];
    private readonly List<SymbolSpec> _symbols = [];

    private sealed record SectionSpec(string Name, ulong Address, byte[] Contents, ulong Flags, uint Type, ulong Alignment, ulong NobitsSize);

    private sealed record SegmentSpec(uint Flags, IReadOnlyList<string> SectionNames, ulong? MemorySizeOverride);

    private sealed record SymbolSpec(string Name, ulong Value, byte Type, byte Binding, ulong Size);

    public ulong Entry { get; set; }
    public ushort Machine { get; set; } = ElfConstants.MachineX86_64;
    public ushort FileType { get; set; } = ElfConstants.TypeExecutable;
    public bool IncludeSymbolTable { get; set; } = true;

    public const ulong CodeFlags = ElfConstants.ShfAlloc | ElfConstants.ShfExecInstr;
    public const ulong ReadOnlyFlags = ElfConstants.ShfAlloc;
    public const ulong DataFlags = ElfConstants.ShfAlloc | ElfConstants.ShfWrite;
    public const uint ShtProgbits = 1;

    public ElfImageBuilder AddSection(string name, ulong address, byte[] contents, ulong flags, ulong alignment = 16)
    {
        _sections.Add(new SectionSpec(name, address, contents, flags, ShtProgbits, alignment, 0));
        return this;
    }

    public ElfImageBuilder AddNobitsSection(string name, ulong address, ulong size, ulong flags)
    {
        _sections.Add(new SectionSpec(name, address, [], flags, ElfConstants.ShtNobits, 16, size));
        return this;
    }

    /// <summary>A PT_LOAD covering the named sections (address order); memory size can be overridden.</summary>
    public ElfImageBuilder AddSegment(uint flags, IReadOnlyList<string> sectionNames, ulong? memorySize = null)
    {
        _segments.Add(new SegmentSpec(flags, sectionNames, memorySize));
        return this;
    }

    public ElfImageBuilder AddSymbol(string name, ulong value, byte type = ElfConstants.SttNotype, byte binding = 1, ulong size = 0)
    {
        _symbols.Add(new SymbolSpec(name, value, type, binding, size));
        return this;
    }

    public byte[] Build()
    {
        const int Ph = ElfConstants.Elf64ProgramHeaderSize;
        var offsets = new ulong[_sections.Count];
        var placed = new bool[_sections.Count];
        ulong cursor = (ulong)(ElfConstants.Elf64HeaderSize + (_segments.Count * Ph));
        var segmentHeaders = new List<(uint Flags, ulong Offset, ulong Address, ulong FileSize, ulong MemorySize)>();
        foreach (SegmentSpec segment in _segments)
        {
            List<int> members = [.. segment.SectionNames.Select(IndexOf)];
            SectionSpec first = _sections[members[0]];
            ulong baseOffset = AlignCongruent(cursor, first.Address);
            ulong fileEnd = baseOffset;
            ulong memoryEnd = first.Address;
            foreach (int index in members)
            {
                SectionSpec section = _sections[index];
                offsets[index] = baseOffset + (section.Address - first.Address);
                placed[index] = true;
                ulong size = SizeOf(section);
                if (section.Type != ElfConstants.ShtNobits)
                {
                    fileEnd = Math.Max(fileEnd, offsets[index] + size);
                }

                memoryEnd = Math.Max(memoryEnd, section.Address + size);
            }

            ulong memorySize = segment.MemorySizeOverride ?? memoryEnd - first.Address;
            segmentHeaders.Add((segment.Flags, baseOffset, first.Address, fileEnd - baseOffset, Math.Max(memorySize, fileEnd - baseOffset)));
            cursor = Math.Max(cursor, fileEnd);
        }

        for (int i = 0; i < _sections.Count; i++)
        {
            if (!placed[i])
            {
                offsets[i] = AlignCongruent(cursor, _sections[i].Address);
                cursor = offsets[i] + (_sections[i].Type == ElfConstants.ShtNobits ? 0 : SizeOf(_sections[i]));
            }
        }

        var shstrtab = new StringTable();
        var strtab = new StringTable();
        byte[] symtab = IncludeSymbolTable ? BuildSymbolTable(strtab) : [];
        byte[] strtabBytes = strtab.ToArray();

        var file = new MemoryStream();
        file.SetLength((long)cursor);
        foreach ((SectionSpec section, int i) in _sections.Select((s, i) => (s, i)))
        {
            if (section.Type != ElfConstants.ShtNobits)
            {
                file.Position = (long)offsets[i];
                file.Write(section.Contents);
            }
        }

        ulong symtabOffset = Append(file, symtab, 8);
        ulong strtabOffset = Append(file, strtabBytes, 1);
        var headers = new List<byte[]> { new byte[ElfConstants.Elf64SectionHeaderSize] };
        for (int i = 0; i < _sections.Count; i++)
        {
            SectionSpec s = _sections[i];
            headers.Add(SectionHeader(shstrtab.Add(s.Name), s.Type, s.Flags, s.Address, offsets[i], SizeOf(s), 0, 0, s.Alignment, 0));
        }

        int symtabIndex = headers.Count;
        if (IncludeSymbolTable)
        {
            headers.Add(SectionHeader(shstrtab.Add(".symtab"), ElfConstants.ShtSymtab, 0, 0, symtabOffset, (ulong)symtab.Length,
                (uint)symtabIndex + 1, 1, 8, ElfConstants.Elf64SymbolSize));
            headers.Add(SectionHeader(shstrtab.Add(".strtab"), ElfConstants.ShtStrtab, 0, 0, strtabOffset, (ulong)strtabBytes.Length, 0, 0, 1, 0));
        }

        uint shstrtabName = shstrtab.Add(".shstrtab");
        byte[] shstrtabBytes = shstrtab.ToArray();
        ulong shstrtabOffset = Append(file, shstrtabBytes, 1);
        headers.Add(SectionHeader(shstrtabName, ElfConstants.ShtStrtab, 0, 0, shstrtabOffset, (ulong)shstrtabBytes.Length, 0, 0, 1, 0));
        ulong shoff = Append(file, [.. headers.SelectMany(h => h)], 8);

        byte[] image = file.ToArray();
        WriteHeader(image, shoff, headers.Count, headers.Count - 1);
        for (int i = 0; i < segmentHeaders.Count; i++)
        {
            Span<byte> ph = image.AsSpan(ElfConstants.Elf64HeaderSize + (i * Ph), Ph);
            var (flags, offset, address, fileSize, memorySize) = segmentHeaders[i];
            BinaryPrimitives.WriteUInt32LittleEndian(ph, ElfConstants.PtLoad);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], flags);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], offset);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], fileSize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], memorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], ElfConstants.PageSize);
        }

        return image;
    }

    private int IndexOf(string name)
    {
        int index = _sections.FindIndex(s => s.Name == name);
        return index >= 0 ? index : throw new ArgumentException($"no section {name}");
    }

    private static ulong SizeOf(SectionSpec section) =>
        section.Type == ElfConstants.ShtNobits ? section.NobitsSize : (ulong)section.Contents.Length;

    private static ulong AlignCongruent(ulong cursor, ulong address)
    {
        ulong wanted = address % ElfConstants.PageSize;
        ulong current = cursor % ElfConstants.PageSize;
        return cursor + ((wanted - current + ElfConstants.PageSize) % ElfConstants.PageSize);
    }

    private static ulong Append(MemoryStream file, byte[] bytes, int alignment)
    {
        long offset = (file.Length + alignment - 1) / alignment * alignment;
        file.SetLength(offset);
        file.Position = offset;
        file.Write(bytes);
        return (ulong)offset;
    }

    private byte[] BuildSymbolTable(StringTable strtab)
    {
        var table = new byte[(_symbols.Count + 1) * ElfConstants.Elf64SymbolSize];
        for (int i = 0; i < _symbols.Count; i++)
        {
            SymbolSpec symbol = _symbols[i];
            Span<byte> entry = table.AsSpan((i + 1) * ElfConstants.Elf64SymbolSize, ElfConstants.Elf64SymbolSize);
            int section = _sections.FindIndex(s => (s.Flags & ElfConstants.ShfAlloc) != 0 && symbol.Value >= s.Address && symbol.Value <= s.Address + SizeOf(s));
            BinaryPrimitives.WriteUInt32LittleEndian(entry, strtab.Add(symbol.Name));
            entry[4] = (byte)((symbol.Binding << 4) | symbol.Type);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], section >= 0 ? (ushort)(section + 1) : ElfConstants.ShnAbs);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], symbol.Value);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], symbol.Size);
        }

        return table;
    }

    private static byte[] SectionHeader(uint name, uint type, ulong flags, ulong address, ulong offset, ulong size,
        uint link, uint info, ulong alignment, ulong entrySize)
    {
        var sh = new byte[ElfConstants.Elf64SectionHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(sh, name);
        BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(16), address);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(24), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(32), size);
        BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(40), link);
        BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(44), info);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(48), alignment);
        BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(56), entrySize);
        return sh;
    }

    private void WriteHeader(byte[] image, ulong shoff, int shnum, int shstrndx)
    {
        Span<byte> h = image.AsSpan(0, ElfConstants.Elf64HeaderSize);
        h.Clear();
        h[0] = 0x7f;
        h[1] = (byte)'E';
        h[2] = (byte)'L';
        h[3] = (byte)'F';
        h[4] = ElfConstants.ClassElf64;
        h[5] = ElfConstants.DataLittleEndian;
        h[6] = ElfConstants.CurrentVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], FileType);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], Entry);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], _segments.Count > 0 ? (ulong)ElfConstants.Elf64HeaderSize : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], ElfConstants.Elf64HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], ElfConstants.Elf64ProgramHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], (ushort)_segments.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(h[58..], ElfConstants.Elf64SectionHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[60..], (ushort)shnum);
        BinaryPrimitives.WriteUInt16LittleEndian(h[62..], (ushort)shstrndx);
    }

    /// <summary>An ELF string table: offset 0 is the empty string.</summary>
    private sealed class StringTable
    {
        private readonly MemoryStream _bytes = new();
        private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [""] = 0 };

        public StringTable() => _bytes.WriteByte(0);

        public uint Add(string value)
        {
            if (!_offsets.TryGetValue(value, out uint offset))
            {
                offset = (uint)_bytes.Length;
                _bytes.Position = _bytes.Length;
                _bytes.Write(Encoding.UTF8.GetBytes(value));
                _bytes.WriteByte(0);
                _offsets[value] = offset;
            }

            return offset;
        }

        public byte[] ToArray() => _bytes.ToArray();
    }
}
