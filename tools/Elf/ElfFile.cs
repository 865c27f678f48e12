using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.Elf;

/// <summary>
/// A parsed little-endian x86 ELF file (ELF32 i386 or ELF64 x86-64). Every offset and size is
/// bounds-checked; anything malformed is an <see cref="ElfError"/> with a one-line message.
/// </summary>
public sealed class ElfFile
{
    public const ushort MachineI386 = 3;
    public const ushort MachineX8664 = 62;
    private const int MaxHeaders = 4096;

    private readonly byte[] _data;

    private ElfFile(byte[] data) => _data = data;

    public ElfClass Class { get; private set; }
    public ushort Machine { get; private set; }
    public ushort FileType { get; private set; }
    public ulong Entry { get; private set; }
    public IReadOnlyList<ElfProgramHeader> ProgramHeaders { get; private set; } = [];
    public IReadOnlyList<ElfSectionHeader> Sections { get; private set; } = [];
    public IReadOnlyList<ElfSymbol> Symbols { get; private set; } = [];
    public int Length => _data.Length;

    public static bool HasElfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7F && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    public static ElfFile Parse(byte[] data)
    {
        if (!HasElfMagic(data)) throw new ElfError("not an ELF file (no \\x7fELF magic)");
        if (data.Length < 52) throw new ElfError("truncated ELF header");
        var f = new ElfFile(data);
        f.ParseHeader();
        return f;
    }

    /// <summary>The file bytes [offset, offset+size), checked against the file length.</summary>
    public ReadOnlySpan<byte> Bytes(ulong offset, ulong size)
    {
        if (offset > (ulong)_data.Length || size > (ulong)_data.Length - offset)
            throw new ElfError($"range 0x{offset:x}+0x{size:x} lies outside the {_data.Length}-byte file");
        return _data.AsSpan((int)offset, (int)size);
    }

    public ElfSectionHeader? FindSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    public IReadOnlyList<ElfNote> Notes()
    {
        var notes = new List<ElfNote>();
        foreach (var ph in ProgramHeaders.Where(p => p.IsNote))
        {
            var span = Bytes(ph.Offset, ph.FileSize);
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
                if (nameEnd > span.Length || descEnd > span.Length) throw new ElfError("note runs past its PT_NOTE segment");
                string name = Encoding.ASCII.GetString(span[pos..(int)nameEnd]).TrimEnd('\0');
                notes.Add(new ElfNote(name, type, span[(int)descStart..(int)descEnd].ToArray()));
                pos = (int)((descEnd + 3) & ~3L);
            }
        }
        return notes;
    }

    private ushort U16(ulong o) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(o, 2));
    private uint U32(ulong o) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(o, 4));
    private ulong U64(ulong o) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(o, 8));
    private ulong Word(ulong o) => Class == ElfClass.Elf64 ? U64(o) : U32(o);

    private void ParseHeader()
    {
        byte cls = _data[4];
        if (cls != 1 && cls != 2) throw new ElfError($"unknown ELF class {cls}");
        Class = (ElfClass)cls;
        if (_data[5] != 1) throw new ElfError("big-endian ELF is not supported (x86 is little-endian)");
        if (Class == ElfClass.Elf64 && _data.Length < 64) throw new ElfError("truncated ELF64 header");
        FileType = U16(16);
        Machine = U16(18);
        bool wide = Class == ElfClass.Elf64;
        if (wide && Machine != MachineX8664) throw new ElfError($"ELF64 for machine {Machine}, not x86-64");
        if (!wide && Machine != MachineI386) throw new ElfError($"ELF32 for machine {Machine}, not i386");
        Entry = Word(24);
        ulong phoff = wide ? U64(32) : U32(28);
        ulong shoff = wide ? U64(40) : U32(32);
        ushort phentsize = U16(wide ? 54UL : 42UL), phnum = U16(wide ? 56UL : 44UL);
        ushort shentsize = U16(wide ? 58UL : 46UL), shnum = U16(wide ? 60UL : 48UL), shstrndx = U16(wide ? 62UL : 50UL);
        int phSize = wide ? 56 : 32, shSize = wide ? 64 : 40;
        if (phnum > 0 && phentsize < phSize) throw new ElfError($"program header entry size {phentsize} is too small");
        if (phnum > MaxHeaders || shnum > MaxHeaders) throw new ElfError("implausible number of headers");
        var phs = new List<ElfProgramHeader>(phnum);
        for (int i = 0; i < phnum; i++)
        {
            ulong o = phoff + (ulong)i * phentsize;
            Bytes(o, (ulong)phSize);
            phs.Add(wide
                ? new ElfProgramHeader(U32(o), U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 24), U64(o + 32), U64(o + 40), U64(o + 48))
                : new ElfProgramHeader(U32(o), U32(o + 24), U32(o + 4), U32(o + 8), U32(o + 12), U32(o + 16), U32(o + 20), U32(o + 28)));
        }
        foreach (var ph in phs.Where(p => p.IsLoad))
        {
            Bytes(ph.Offset, ph.FileSize);
            if (ph.FileSize > ph.MemorySize) throw new ElfError("PT_LOAD segment has a file size larger than its memory size");
        }
        ProgramHeaders = phs;

        if (shnum == 0 || shoff == 0) return;
        if (shentsize < shSize) throw new ElfError($"section header entry size {shentsize} is too small");
        // Plain arrays and loops: generic framework code over this file's value types would have
        // to be JIT-compiled at start-up (ReadyToRun cannot precompile it across assemblies).
        var raw = new RawSection[shnum];
        for (int i = 0; i < shnum; i++)
        {
            ulong o = shoff + (ulong)i * shentsize;
            Bytes(o, (ulong)shSize);
            raw[i] = wide
                ? new RawSection(U32(o), U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 24), U64(o + 32), U32(o + 40), U64(o + 56))
                : new RawSection(U32(o), U32(o + 4), U32(o + 8), U32(o + 12), U32(o + 16), U32(o + 20), U32(o + 24), U32(o + 36));
        }
        if (shstrndx >= raw.Length) throw new ElfError("section name table index out of range");
        var names = raw[shstrndx];
        var sections = new ElfSectionHeader[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            var r = raw[i];
            sections[i] = new ElfSectionHeader(ReadString(names.Off, names.Size, r.Name), r.Type, r.Flags, r.Addr, r.Off, r.Size, r.Link, r.EntSize);
            if (r.Type != ElfSectionHeader.NoBits && r.Type != 0) Bytes(r.Off, r.Size);
        }
        Sections = sections;
        Symbols = ReadSymbols();
    }

    private readonly record struct RawSection(uint Name, uint Type, ulong Flags, ulong Addr, ulong Off, ulong Size, uint Link, ulong EntSize);

    private string ReadString(ulong tableOffset, ulong tableSize, uint index)
    {
        if (index >= tableSize) throw new ElfError("string index outside its string table");
        var table = Bytes(tableOffset, tableSize);
        int end = table[(int)index..].IndexOf((byte)0);
        if (end < 0) throw new ElfError("unterminated string in a string table");
        return Encoding.ASCII.GetString(table.Slice((int)index, end));
    }

    private List<ElfSymbol> ReadSymbols()
    {
        var symtab = Sections.FirstOrDefault(s => s.Type == ElfSectionHeader.SymbolTable);
        if (symtab is null) return [];
        if (symtab.Link >= Sections.Count) throw new ElfError(".symtab links to a missing string table");
        var strtab = Sections[(int)symtab.Link];
        bool wide = Class == ElfClass.Elf64;
        ulong entry = wide ? 24UL : 16UL;
        var list = new List<ElfSymbol>();
        for (ulong o = symtab.Offset; o + entry <= symtab.Offset + symtab.Size; o += entry)
        {
            uint name = U32(o);
            ulong value = wide ? U64(o + 8) : U32(o + 4);
            ulong size = wide ? U64(o + 16) : U32(o + 8);
            byte info = Bytes(wide ? o + 4 : o + 12, 1)[0];
            ushort shndx = U16(wide ? o + 6 : o + 14);
            if (name == 0) continue;
            list.Add(new ElfSymbol(ReadString(strtab.Offset, strtab.Size, name), value, size, (byte)(info & 0xF), shndx));
        }
        return list;
    }
}
