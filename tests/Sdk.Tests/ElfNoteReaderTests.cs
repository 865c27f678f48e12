using System.Buffers.Binary;
using System.Text;
using HekiGuest.Abi;

namespace HekiGuest.Sdk.Tests;

/// <summary>
/// The guest's ELF64 note reader (kernel/Sdk/ElfNoteReader.cs) on crafted images: the marker is
/// found among other notes and segments; every truncated, misaligned, overlapping, out-of-image or
/// malformed form is refused with its own status, never read past the bytes given.
/// </summary>
public sealed unsafe class ElfNoteReaderTests
{
    private static byte[] Note(string name, uint type, byte[] desc, int align = 4, int? nameszOverride = null)
    {
        byte[] n = name.Length == 0 ? [] : Encoding.ASCII.GetBytes(name + "\0");
        int namePad = (n.Length + align - 1) / align * align, descPad = (desc.Length + align - 1) / align * align;
        var b = new byte[12 + namePad + descPad];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)(nameszOverride ?? n.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), type);
        n.CopyTo(b, 12);
        desc.CopyTo(b, 12 + namePad);
        return b;
    }

    private static byte[] Desc(uint version, uint flags)
    {
        var d = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(d, version);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), flags);
        return d;
    }

    private static byte[] Marker(uint version = 1, uint flags = 3, int align = 4) => Note("HekiGuest", KexecMarker.NoteType, Desc(version, flags), align);
    private static byte[] Pvh() => Note("Xen", 18, [0x0C, 0x00, 0x10, 0x00]);
    private static byte[] Gnu() => Note("GNU", 3, new byte[20]);

    /// <summary>(type, offset, filesz, align) program headers; segments' bytes placed at their offsets.</summary>
    private static byte[] Elf(IReadOnlyList<(uint Type, ulong Offset, ulong Size, ulong Align)> phdrs, IReadOnlyList<(ulong Offset, byte[] Bytes)> data, int length = 0x1000)
    {
        var b = new byte[length];
        b[0] = 0x7F; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F'; b[4] = 2; b[5] = 1; b[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), 0x3E);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), (ushort)phdrs.Count);
        for (int i = 0; i < phdrs.Count; i++)
        {
            var p = b.AsSpan(64 + i * 56);
            BinaryPrimitives.WriteUInt32LittleEndian(p, phdrs[i].Type);
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], phdrs[i].Offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], phdrs[i].Size);
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], phdrs[i].Size);
            BinaryPrimitives.WriteUInt64LittleEndian(p[48..], phdrs[i].Align);
        }
        foreach (var (offset, bytes) in data) bytes.CopyTo(b, (int)offset);
        return b;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static (long Status, uint Version, uint Flags) Find(byte[] image)
    {
        fixed (byte* p = image)
        {
            long s = ElfNoteReader.FindMarkerInImage(p, (ulong)image.Length, out uint v, out uint f);
            return (s, v, f);
        }
    }

    private static byte[] OneNoteSegment(byte[] notes, ulong align = 4, ulong offset = 0x400) =>
        Elf([(1, 0, 0x400, 0x1000), (4, offset, (ulong)notes.Length, align)], [(offset, notes)]);

    [Fact]
    public void The_marker_is_found_among_other_notes_and_segments()
    {
        Assert.Equal((ElfNoteStatus.Found, 1u, 3u), Find(OneNoteSegment(Concat(Pvh(), Marker(), Gnu()))));
        // two PT_NOTE segments, the marker in the second; 8-byte aligned notes
        var image = Elf([(4, 0x400, (ulong)Pvh().Length, 4), (1, 0, 0x400, 0x1000), (4, 0x800, (ulong)Marker(2, 7, 8).Length, 8)],
            [(0x400, Pvh()), (0x800, Marker(2, 7, 8))]);
        Assert.Equal((ElfNoteStatus.Found, 2u, 7u), Find(image));
    }

    [Fact]
    public void No_marker_is_not_found_not_an_error()
    {
        Assert.Equal(ElfNoteStatus.NotFound, Find(OneNoteSegment(Concat(Pvh(), Gnu()))).Status);
        Assert.Equal(ElfNoteStatus.NotFound, Find(Elf([(1, 0, 0x400, 0x1000)], [])).Status);
        Assert.Equal(ElfNoteStatus.NotFound, Find(Elf([], [])).Status);
        // the right name with another type, another name with the type
        Assert.Equal(ElfNoteStatus.NotFound, Find(OneNoteSegment(Concat(Note("HekiGuest", 1, Desc(1, 3)), Note("HekiGuesT", KexecMarker.NoteType, Desc(1, 3))))).Status);
    }

    public static TheoryData<string, long> Malformed => new()
    {
        { "not elf", ElfNoteStatus.NotElf64 },
        { "elf32", ElfNoteStatus.NotElf64 },
        { "big endian", ElfNoteStatus.NotElf64 },
        { "short header", ElfNoteStatus.NotElf64 },
        { "phentsize", ElfNoteStatus.BadProgramHeaders },
        { "phdrs past end", ElfNoteStatus.BadProgramHeaders },
        { "too many phdrs", ElfNoteStatus.BadProgramHeaders },
        { "segment past end", ElfNoteStatus.SegmentOutsideImage },
        { "segment offset wraps", ElfNoteStatus.SegmentOutsideImage },
        { "segment misaligned", ElfNoteStatus.Misaligned },
        { "align 2", ElfNoteStatus.Misaligned },
        { "size not multiple of 4", ElfNoteStatus.Misaligned },
        { "overlapping segments", ElfNoteStatus.OverlappingSegments },
        { "header truncated", ElfNoteStatus.Truncated },
        { "name truncated", ElfNoteStatus.Truncated },
        { "descriptor truncated", ElfNoteStatus.Truncated },
        { "namesz huge", ElfNoteStatus.Truncated },
        { "name without nul", ElfNoteStatus.BadName },
        { "two markers", ElfNoteStatus.Duplicate },
        { "markers in two segments", ElfNoteStatus.Duplicate },
        { "descriptor short", ElfNoteStatus.BadDescriptor },
        { "version 0", ElfNoteStatus.BadDescriptor },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Every_malformed_form_is_refused_with_its_status(string how, long status)
    {
        byte[] image = how switch
        {
            "not elf" => new byte[0x1000],
            "elf32" => Patch(OneNoteSegment(Marker()), 4, 1),
            "big endian" => Patch(OneNoteSegment(Marker()), 5, 2),
            "short header" => OneNoteSegment(Marker())[..63],
            "phentsize" => Patch(OneNoteSegment(Marker()), 54, 32),
            "phdrs past end" => Patch64(OneNoteSegment(Marker()), 32, 0x1000 - 56),
            "too many phdrs" => Patch(Patch(OneNoteSegment(Marker()), 56, 0x01), 57, 0x01),   // 257
            "segment past end" => Elf([(4, 0xF00, 0x200, 4)], []),
            "segment offset wraps" => Elf([(4, ulong.MaxValue - 3, 8, 4)], []),
            "segment misaligned" => Elf([(4, 0x402, (ulong)Marker().Length, 4)], [(0x402, Marker())]),
            "align 2" => OneNoteSegment(Marker(), align: 2),
            "size not multiple of 4" => Elf([(4, 0x400, (ulong)Marker().Length - 2, 4)], [(0x400, Marker())]),
            "overlapping segments" => Elf([(4, 0x400, 0x40, 4), (4, 0x420, 0x40, 4)], [(0x400, Pvh())]),
            "header truncated" => Elf([(4, 0x400, 8, 4)], [(0x400, Marker())]),
            "name truncated" => Elf([(4, 0x400, 16, 4)], [(0x400, Marker())]),
            "descriptor truncated" => Elf([(4, 0x400, (ulong)Marker().Length - 4, 4)], [(0x400, Marker())]),
            "namesz huge" => OneNoteSegment(Note("HekiGuest", KexecMarker.NoteType, Desc(1, 3), nameszOverride: -4)),
            "name without nul" => OneNoteSegment(Note("Xen", 18, new byte[4], nameszOverride: 3)),
            "two markers" => OneNoteSegment(Concat(Marker(), Pvh(), Marker())),
            "markers in two segments" => Elf([(4, 0x400, (ulong)Marker().Length, 4), (4, 0x800, (ulong)Marker().Length, 4)], [(0x400, Marker()), (0x800, Marker())]),
            "descriptor short" => OneNoteSegment(Note("HekiGuest", KexecMarker.NoteType, [1, 0, 0, 0])),
            "version 0" => OneNoteSegment(Marker(0, 3)),
            _ => throw new ArgumentException(how),
        };
        var r = Find(image);
        Assert.Equal(status, r.Status);
        Assert.Equal((0u, 0u), (r.Version, r.Flags));
    }

    [Fact]
    public void Every_prefix_of_a_valid_image_is_refused_or_not_found_and_never_read_past()
    {
        var image = OneNoteSegment(Concat(Pvh(), Marker(), Gnu()));
        int notesEnd = 0x400 + Pvh().Length + Marker().Length + Gnu().Length;
        for (int n = 0; n < notesEnd; n++)
        {
            // an exact-size copy: a read past its end would land outside the array's own bytes
            var prefix = image[..n];
            var r = Find(prefix);
            Assert.True(r.Status < 0 || r.Status == ElfNoteStatus.NotFound, $"prefix of {n} bytes: status {r.Status}");
        }
        Assert.Equal(ElfNoteStatus.Found, Find(image[..notesEnd]).Status);
    }

    [Fact]
    public void Random_corruption_never_faults_and_never_finds_a_marker_that_is_not_there()
    {
        var random = new Random(4242);
        var clean = OneNoteSegment(Concat(Pvh(), Gnu(), Gnu()));
        for (int i = 0; i < 20_000; i++)
        {
            var image = (byte[])clean.Clone();
            for (int k = 0, flips = random.Next(1, 6); k < flips; k++)
            {
                int at = random.Next(2) == 0 ? random.Next(0, 64 + 2 * 56) : random.Next(0x400, 0x400 + 96);
                image[at] = (byte)random.Next(256);
            }
            var r = Find(image);
            Assert.NotEqual(ElfNoteStatus.Found, r.Status);
        }
    }

    [Fact]
    public void A_bare_note_sequence_reads_as_the_kernel_reads_its_own_section()
    {
        var notes = Concat(Pvh(), Marker(1, 3));
        fixed (byte* p = notes)
        {
            Assert.Equal(ElfNoteStatus.Found, ElfNoteReader.FindMarkerInNotes(p, (ulong)notes.Length, 4, out uint v, out uint f));
            Assert.Equal((1u, 3u), (v, f));
            Assert.Equal(ElfNoteStatus.Misaligned, ElfNoteReader.FindMarkerInNotes(p, (ulong)notes.Length, 16, out _, out _));
            Assert.Equal(ElfNoteStatus.Truncated, ElfNoteReader.FindMarkerInNotes(p, (ulong)notes.Length - 4, 4, out _, out _));
        }
        Assert.Equal(ElfNoteStatus.NotFound, ElfNoteReader.FindMarkerInNotes(null, 0, 4, out _, out _));
    }

    private static byte[] Patch(byte[] b, int at, byte value)
    {
        b[at] = value;
        return b;
    }

    private static byte[] Patch64(byte[] b, int at, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), value);
        return b;
    }
}
