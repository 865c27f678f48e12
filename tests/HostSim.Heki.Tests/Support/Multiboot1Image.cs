using System.Buffers.Binary;
using Iced.Intel;

namespace HekiGuest.HostSim.Heki.Tests.Support;

/// <summary>
/// A minimal multiboot1 kernel: an ELF32 (i386) file with one PT_LOAD segment at
/// <see cref="LoadAddress"/> that starts with a multiboot1 header (no flags) followed by 32-bit
/// code assembled with Iced; the entry point is the first instruction after the header.
/// </summary>
internal static class Multiboot1Image
{
    public const uint LoadAddress = 0x100000;
    public const uint Entry = LoadAddress + 12;
    private const int SegmentOffset = 0x100;

    public static byte[] Build(Action<Assembler> code)
    {
        var a = new Assembler(32);
        code(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Entry);
        byte[] body = stream.ToArray();

        int segmentSize = 12 + body.Length;
        var image = new byte[SegmentOffset + segmentSize];
        var span = image.AsSpan();
        // ELF32 header
        span[0] = 0x7F; span[1] = (byte)'E'; span[2] = (byte)'L'; span[3] = (byte)'F';
        span[4] = 1; span[5] = 1; span[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], 2);          // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], 3);          // EM_386
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], Entry);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], 52);         // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(span[40..], 52);         // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(span[42..], 32);         // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(span[44..], 1);          // e_phnum
        // PT_LOAD
        var ph = span[52..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], SegmentOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], LoadAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], LoadAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], (uint)segmentSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], (uint)segmentSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], 7);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[28..], 0x1000);
        // multiboot1 header: magic, flags, checksum
        var mb = span[SegmentOffset..];
        const uint magic = 0x1BADB002;
        BinaryPrimitives.WriteUInt32LittleEndian(mb, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(mb[4..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(mb[8..], unchecked(0u - magic));
        body.CopyTo(mb[12..]);
        return image;
    }
}
