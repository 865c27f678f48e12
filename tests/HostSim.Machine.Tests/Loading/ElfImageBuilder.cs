using System.Buffers.Binary;
using System.Text;
using Iced.Intel;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>
/// Writes a minimal little-endian x86 executable (ELF32 i386 or ELF64 x86-64) from scratch, the
/// way a linker lays it out: ELF header, program headers, then each segment's bytes at a page-
/// aligned file offset (the first at 0x1000, so a boot header at the start of the first segment
/// is inside the loaders' search windows). No sections.
/// </summary>
internal sealed class ElfImageBuilder(bool elf64)
{
    private const uint PtLoad = 1, PtNote = 4;
    private readonly List<(uint Type, ulong Virtual, ulong Physical, byte[] Bytes, ulong MemorySize)> _segments = [];

    public ulong Entry { get; set; }

    /// <summary>A PT_LOAD segment: <paramref name="bytes"/> at <paramref name="physical"/>, then
    /// zeros up to <paramref name="memorySize"/> (.bss). The virtual address defaults to the physical one.</summary>
    public ElfImageBuilder Load(ulong physical, byte[] bytes, ulong memorySize = 0, ulong? virtualAddress = null)
    {
        _segments.Add((PtLoad, virtualAddress ?? physical, physical, bytes, Math.Max(memorySize, (ulong)bytes.Length)));
        return this;
    }

    /// <summary>A PT_NOTE segment holding one note (name and descriptor padded to 4 bytes).</summary>
    public ElfImageBuilder Note(string name, uint type, byte[] descriptor)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var note = new byte[12 + Pad4(nameBytes.Length) + Pad4(descriptor.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(note, (uint)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)descriptor.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), type);
        nameBytes.CopyTo(note, 12);
        descriptor.CopyTo(note, 12 + Pad4(nameBytes.Length));
        _segments.Add((PtNote, 0, 0, note, (ulong)note.Length));
        return this;
    }

    /// <summary>The XEN_ELFNOTE_PHYS32_ENTRY note with a 4- or 8-byte descriptor.</summary>
    public ElfImageBuilder PvhNote(uint entry, int descriptorBytes = 4)
    {
        var d = new byte[descriptorBytes];
        if (descriptorBytes == 8) BinaryPrimitives.WriteUInt64LittleEndian(d, entry);
        else BinaryPrimitives.WriteUInt32LittleEndian(d, entry);
        return Note("Xen", 18, d);
    }

    public byte[] Build()
    {
        int ehSize = elf64 ? 64 : 52, phSize = elf64 ? 56 : 32;
        var offsets = new List<int>();
        int cursor = 0x1000;
        foreach (var s in _segments)
        {
            offsets.Add(cursor);
            cursor = (cursor + s.Bytes.Length + 0xFFF) & ~0xFFF;
        }
        var f = new byte[Math.Max(cursor, ehSize + phSize * _segments.Count)];
        var o = f.AsSpan();
        o[0] = 0x7F; o[1] = (byte)'E'; o[2] = (byte)'L'; o[3] = (byte)'F';
        o[4] = (byte)(elf64 ? 2 : 1);     // class
        o[5] = 1;                         // little-endian
        o[6] = 1;                         // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(o[16..], 2);                 // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(o[18..], (ushort)(elf64 ? 62 : 3));
        BinaryPrimitives.WriteUInt32LittleEndian(o[20..], 1);
        if (elf64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(o[24..], Entry);
            BinaryPrimitives.WriteUInt64LittleEndian(o[32..], (ulong)ehSize);     // e_phoff
            BinaryPrimitives.WriteUInt16LittleEndian(o[52..], (ushort)ehSize);
            BinaryPrimitives.WriteUInt16LittleEndian(o[54..], (ushort)phSize);
            BinaryPrimitives.WriteUInt16LittleEndian(o[56..], (ushort)_segments.Count);
            BinaryPrimitives.WriteUInt16LittleEndian(o[58..], 64);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(o[24..], checked((uint)Entry));
            BinaryPrimitives.WriteUInt32LittleEndian(o[28..], (uint)ehSize);      // e_phoff
            BinaryPrimitives.WriteUInt16LittleEndian(o[40..], (ushort)ehSize);
            BinaryPrimitives.WriteUInt16LittleEndian(o[42..], (ushort)phSize);
            BinaryPrimitives.WriteUInt16LittleEndian(o[44..], (ushort)_segments.Count);
            BinaryPrimitives.WriteUInt16LittleEndian(o[46..], 40);
        }
        for (int i = 0; i < _segments.Count; i++)
        {
            var s = _segments[i];
            var p = o[(ehSize + i * phSize)..];
            uint flags = s.Type == PtLoad ? 7u : 4u;
            if (elf64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p, s.Type);
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], flags);
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(p[16..], s.Virtual);
                BinaryPrimitives.WriteUInt64LittleEndian(p[24..], s.Physical);
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)s.Bytes.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(p[40..], s.MemorySize);
                BinaryPrimitives.WriteUInt64LittleEndian(p[48..], s.Type == PtLoad ? 0x1000UL : 4UL);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p, s.Type);
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)offsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[8..], checked((uint)s.Virtual));
                BinaryPrimitives.WriteUInt32LittleEndian(p[12..], checked((uint)s.Physical));
                BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)s.Bytes.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(p[20..], checked((uint)s.MemorySize));
                BinaryPrimitives.WriteUInt32LittleEndian(p[24..], flags);
                BinaryPrimitives.WriteUInt32LittleEndian(p[28..], s.Type == PtLoad ? 0x1000u : 4u);
            }
            s.Bytes.CopyTo(f, offsets[i]);
        }
        return f;
    }

    /// <summary>A multiboot2 header (magic, architecture i386, length, checksum) with only the end tag: 24 bytes.</summary>
    public static byte[] Multiboot2Header(uint checksumAdjust = 0)
    {
        const uint magic = 0xE85250D6, length = 24;
        return Words(magic, 0, length, unchecked(0u - (magic + length) + checksumAdjust), 0, 8);
    }

    /// <summary>A multiboot1 header (magic, flags, checksum): 12 bytes.</summary>
    public static byte[] Multiboot1Header(uint flags = 0)
    {
        const uint magic = 0x1BADB002;
        return Words(magic, flags, unchecked(0u - (magic + flags)));
    }

    /// <summary>The entry of <see cref="Multiboot1Kernel"/>: right after the header at 1 MiB.</summary>
    public const uint Multiboot1Entry = 0x10000C;

    /// <summary>A tiny multiboot1 ELF32 kernel: one segment at 1 MiB holding the multiboot1
    /// header and then the 32-bit <paramref name="code"/>, entered at <see cref="Multiboot1Entry"/>
    /// in flat protected mode.</summary>
    public static byte[] Multiboot1Kernel(Action<Assembler> code)
    {
        var a = new Assembler(32);
        code(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Multiboot1Entry);
        return new ElfImageBuilder(elf64: false) { Entry = Multiboot1Entry }
            .Load(0x100000, [.. Multiboot1Header(), .. stream.ToArray()])
            .Build();
    }

    public static byte[] Words(params uint[] words)
    {
        var b = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * 4), words[i]);
        return b;
    }

    private static int Pad4(int n) => (n + 3) & ~3;
}
