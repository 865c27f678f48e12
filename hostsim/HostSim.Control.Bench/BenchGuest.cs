using System.Buffers.Binary;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Control.Bench;

/// <summary>Multiboot1 ELF32 guests for the benchmark: one PT_LOAD at 1 MiB, 32-bit code.</summary>
internal static class BenchGuest
{
    private const uint Load = 0x100000, Entry = Load + 12;

    /// <summary>A compute loop of <paramref name="iterations"/> x 6 instructions (ALU, load,
    /// store, multiply, branch), then debug-exit.</summary>
    public static byte[] Compute(uint iterations) => Elf(a =>
    {
        var top = a.CreateLabel();
        a.mov(ebx, 0x200000);
        a.mov(ecx, iterations);
        a.Label(ref top);
        a.add(eax, __dword_ptr[ebx]);
        a.mov(__dword_ptr[ebx + 4], eax);
        a.xor(edx, eax);
        a.imul(edx, edx, 3);
        a.dec(ecx);
        a.jnz(top);
        a.xor(eax, eax);
        a.@out(0xF4, al);
        a.hlt();
    });

    /// <summary>Spins forever.</summary>
    public static byte[] Spin() => Elf(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.inc(eax);
        a.jmp(top);
    });

    private static byte[] Elf(Action<Assembler> code)
    {
        var a = new Assembler(32);
        code(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Entry);
        byte[] body = [.. Multiboot1Header(), .. stream.ToArray()];
        var elf = new byte[0x1000 + body.Length];
        var h = elf.AsSpan();
        ((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']).CopyTo(h);
        h[4] = 1; h[5] = 1; h[6] = 1;                                   // ELF32, little-endian, version 1
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2);            // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 3);            // EM_386
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], Entry);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], 52);           // program headers
        BinaryPrimitives.WriteUInt16LittleEndian(h[40..], 52);
        BinaryPrimitives.WriteUInt16LittleEndian(h[42..], 32);
        BinaryPrimitives.WriteUInt16LittleEndian(h[44..], 1);
        var ph = h[52..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);                 // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 0x1000);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], Load);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], Load);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], 7);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[28..], 0x1000);
        body.CopyTo(h[0x1000..]);
        return elf;
    }

    private static byte[] Multiboot1Header()
    {
        var b = new byte[12];
        const uint magic = 0x1BADB002;
        BinaryPrimitives.WriteUInt32LittleEndian(b, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), unchecked(0u - magic));
        return b;
    }
}
