using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>
/// Writes one 4-level walk into guest RAM: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at
/// 0x4000, and the 4 KiB data page at 0x5000, reached by <see cref="Linear"/> (indices 1/2/3/4).
/// Each level's flag bits are given separately so a test can vary one level at a time.
/// </summary>
internal sealed class PageTableBuilder(PhysicalMemory memory)
{
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Pt = 0x4000, Page = 0x5000;
    public const ulong Present = 1, Writable = 2, User = 4, Accessed = 0x20, Dirty = 0x40, PageSize = 0x80;
    public const ulong NoExecute = 1UL << 63;
    public const ulong AllowAll = Present | Writable | User;
    public const ulong Offset = 0x123;

    /// <summary>PML4 index 1, PDPT index 2, PD index 3, PT index 4, byte 0x123.</summary>
    public const ulong Linear = (1UL << 39) | (2UL << 30) | (3UL << 21) | (4UL << 12) | Offset;

    public static ulong EntryAddress(int level) => level switch
    {
        4 => Pml4 + 1 * 8,
        3 => Pdpt + 2 * 8,
        2 => Pd + 3 * 8,
        _ => Pt + 4 * 8,
    };

    /// <summary>Writes the four entries: each is (next table or page) | that level's flags.</summary>
    public void Map4K(ulong pml4Flags, ulong pdptFlags, ulong pdFlags, ulong ptFlags, ulong page = Page)
    {
        Clear();
        Write(EntryAddress(4), Pdpt | pml4Flags);
        Write(EntryAddress(3), Pd | pdptFlags);
        Write(EntryAddress(2), Pt | pdFlags);
        Write(EntryAddress(1), page | ptFlags);
    }

    /// <summary>A 2 MiB page: the PDE is the leaf (PS=1) and maps <paramref name="frame"/>.</summary>
    public void Map2M(ulong pml4Flags, ulong pdptFlags, ulong pdeFlags, ulong frame)
    {
        Clear();
        Write(EntryAddress(4), Pdpt | pml4Flags);
        Write(EntryAddress(3), Pd | pdptFlags);
        Write(EntryAddress(2), frame | pdeFlags | PageSize);
    }

    public void Clear() => memory.Slice(Pml4, 0x4000).Clear();

    public ulong Read(ulong physical) => BinaryPrimitives.ReadUInt64LittleEndian(memory.Slice(physical, 8));

    public void Write(ulong physical, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(memory.Slice(physical, 8), value);
}
