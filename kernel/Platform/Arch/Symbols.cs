using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// The kernel's own code symbols, embedded at link time (mk/kernel.mk, second link pass):
// header {u32 count, u32 reserved}, then count entries {u64 address, u32 name offset, u32 length}
// sorted by address, then the names. Long compiler prefixes are shortened ("K:" for the kernel
// assembly, "C:" for the corelib).
public static unsafe class Symbols
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_symtab")] private static extern byte* Table();

    private struct Entry { public ulong Address; public uint NameOffset; public uint Length; }

    public static int Count => *(int*)Table();

    // Finds the symbol at or below address inside the kernel's code; false when none.
    public static bool Lookup(ulong address, out byte* name, out int nameLength, out ulong offset)
    {
        name = null; nameLength = 0; offset = 0;
        byte* t = Table();
        int count = *(int*)t;
        Entry* e = (Entry*)(t + 8);
        if (count == 0 || address < e[0].Address) return false;
        if (address >= LinkerSymbols.SealedEnd() && address >= LinkerSymbols.TextEnd()) return false;
        int lo = 0, hi = count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (e[mid].Address <= address) lo = mid; else hi = mid - 1;
        }
        byte* names = t + 8 + count * sizeof(Entry);
        name = names + e[lo].NameOffset;
        nameLength = (int)e[lo].Length;
        offset = address - e[lo].Address;
        return true;
    }

    public static void Write(Drivers.TextOut o, ulong address)
    {
        if (Lookup(address, out byte* name, out int len, out ulong off))
        {
            o.WriteAscii(name, len);
            if (off != 0) o.Write('+').Hex(off);
        }
        else o.Write("?");
    }

    public static bool NameEquals(ulong address, string expected)
    {
        if (!Lookup(address, out byte* name, out int len, out ulong off) || off != 0 || len != expected.Length) return false;
        for (int i = 0; i < len; i++) if (name[i] != expected[i]) return false;
        return true;
    }
}
