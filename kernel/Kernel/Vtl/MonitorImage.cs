using System.Runtime;
using System.Runtime.CompilerServices;
using HekiGuest.Platform.Security;

namespace HekiGuest.Kernel.Vtl;

// The VTL1 monitor embedded in the kernel's rodata (mk/vtl1-monitor.mk): an ELF64 image linked
// at its own physical address. Every field is checked before use; a malformed image is refused
// with a reason, never loaded in part.
public static unsafe class MonitorImage
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_monitor_image")] private static extern byte* Start();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_monitor_image_end")] private static extern byte* End();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_monitor_digest")] private static extern byte* BuiltInDigest();

    private const uint PtLoad = 1;
    private const ulong MaxSpan = 16UL << 20, LowestAddress = 1UL << 20, Limit = 1UL << 32;

    public static ulong Size => (ulong)(End() - Start());

    /// <summary>True when the image's SHA-256 equals the digest built into the kernel.</summary>
    public static bool DigestMatches()
    {
        byte* d = stackalloc byte[32];
        Sha256.Hash(Start(), Size, d);
        byte* want = BuiltInDigest();
        int diff = 0;
        for (int i = 0; i < 32; i++) diff |= d[i] ^ want[i];
        return diff == 0;
    }

    /// <summary>The page-aligned physical range the image's PT_LOAD segments occupy and its
    /// 32-bit entry; null when well-formed, else the reason.</summary>
    public static string Describe(out ulong low, out ulong high, out ulong entry)
    {
        low = high = entry = 0;
        byte* p = Start();
        ulong size = Size;
        if (size < 64 || p[0] != 0x7F || p[1] != (byte)'E' || p[2] != (byte)'L' || p[3] != (byte)'F' || p[4] != 2 || p[5] != 1)
            return "not a little-endian ELF64 image";
        if (*(ushort*)(p + 18) != 0x3E) return "not an x86-64 image";
        entry = *(ulong*)(p + 24);
        ulong phoff = *(ulong*)(p + 32);
        ushort phentsize = *(ushort*)(p + 54), phnum = *(ushort*)(p + 56);
        if (phentsize != 56 || phnum == 0 || phoff > size || (ulong)phnum * 56 > size - phoff) return "bad program headers";
        ulong lo = ulong.MaxValue, hi = 0;
        for (int i = 0; i < phnum; i++)
        {
            byte* ph = p + phoff + (ulong)i * 56;
            if (*(uint*)ph != PtLoad) continue;
            ulong off = *(ulong*)(ph + 8), paddr = *(ulong*)(ph + 24), filesz = *(ulong*)(ph + 32), memsz = *(ulong*)(ph + 40);
            if (filesz > memsz || off > size || filesz > size - off) return "a segment lies outside the image";
            if (paddr < LowestAddress || memsz > Limit || paddr + memsz > Limit) return "a segment lies outside 1 MiB..4 GiB";
            if (paddr < lo) lo = paddr;
            if (paddr + memsz > hi) hi = paddr + memsz;
        }
        if (hi == 0) return "no loadable segment";
        low = lo & ~0xFFFUL;
        high = (hi + 0xFFF) & ~0xFFFUL;
        if (high - low > MaxSpan) return "the image spans more than 16 MiB";
        if (entry < low || entry >= high) return "the entry lies outside the image";
        return null;
    }

    /// <summary>Copies every PT_LOAD segment to its physical address and zeroes the rest of
    /// [low, high). Call only after <see cref="Describe"/> accepted the image and the range
    /// was reserved.</summary>
    public static void Load(ulong low, ulong high)
    {
        for (ulong a = low; a < high; a += 8) *(ulong*)a = 0;
        byte* p = Start();
        ulong phoff = *(ulong*)(p + 32);
        ushort phnum = *(ushort*)(p + 56);
        for (int i = 0; i < phnum; i++)
        {
            byte* ph = p + phoff + (ulong)i * 56;
            if (*(uint*)ph != PtLoad) continue;
            ulong off = *(ulong*)(ph + 8), paddr = *(ulong*)(ph + 24), filesz = *(ulong*)(ph + 32);
            byte* dst = (byte*)paddr;
            for (ulong b = 0; b < filesz; b++) dst[b] = p[off + b];
        }
    }
}
