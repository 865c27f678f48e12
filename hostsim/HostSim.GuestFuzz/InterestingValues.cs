using HekiGuest.Abi;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>Random register values: uniform, small, boundaries, pointers into the interesting parts
/// of the fuzz guest (page tables, protected text and rodata, the GDT/IDT/TSS, stacks, code areas,
/// user pages, the heap and its 1 GiB alias window, a page mapped beyond RAM, unmapped and
/// non-canonical addresses), MSR and hypercall numbers, CR values, huge counts, page-table entries naming protected pages,
/// selectors.</summary>
public static class InterestingValues
{
    private static readonly (ulong Start, ulong Size)[] Regions =
    [
        (GuestLayout.Pml4, GuestLayout.PageTablesEnd - GuestLayout.Pml4),
        (GuestLayout.Pml4, 8), (GuestLayout.Pdpt, 16), (GuestLayout.Pd, 24),                    // the entries in use
        (GuestLayout.Rodata, GuestLayout.RodataPages * 4096),
        (GuestLayout.Idt, 4096),
        (GuestLayout.Text, GuestLayout.TextPages * 4096),
        (GuestLayout.KernelData, 0x10000),
        (GuestLayout.KernelCode, GuestLayout.CodeSize),
        (0x38000, 0x1C8000),
        (GuestLayout.UserCode, GuestLayout.CodeSize),
        (GuestLayout.UserData, 0x1F8000),
        (GuestLayout.Heap, GuestLayout.HeapSize),
        (GuestLayout.AliasWindow, GuestLayout.AliasWindowSize),
        (GuestLayout.OutsideRamWindow, 4096),
        (GuestLayout.MemorySize, 0x3FA0_0000),                 // unmapped below the alias window
        (0x8000_0000_0000_0000, 0x1_0000_0000),                // non-canonical
        (0x0000_8000_0000_0000 - 0x1000, 0x2000),              // the canonical boundary
        (0xFFFF_8000_0000_0000, 0x1_0000_0000),                // canonical high half, unmapped
    ];

    private static readonly ulong[] Constants =
    [
        0, 1, 2, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF, 0x8000,
        0x4000_0000, 0x1_0000_0000,
        0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084, 0xC000_0100, 0xC000_0101, 0xC000_0102, 0x1B, 0x10, 0x277,
        HekiMsr.DefaultBase, HekiMsr.DefaultBase + 1, HekiMsr.DefaultBase + 2, HekiMsr.DefaultBase + 3, HekiMsr.DefaultBase + 4, HekiMsr.DefaultBase + 5,
        HekiHypercall.DefaultBase, HekiHypercall.DefaultBase + 1, HekiHypercall.DefaultBase + 2, HekiHypercall.DefaultBase + 3,
        0x80000033, 0x80000011, 0x620, 0x320620, 0x300800, 0x10000, 4, 0,
        // page-table entries naming protected pages: a page table or page that the walker (accessed
        // and dirty bits) or an alias could write through
        GuestLayout.Text | 0x7, GuestLayout.Rodata | 0x7, GuestLayout.Idt | 0x7, GuestLayout.Gdt | 0x67, GuestLayout.KernelCode | 0x7,
        GuestLayout.Text | 0x87, 0x83, GuestLayout.Pml4 | 0x7,
        GuestLayout.KernelCs64, GuestLayout.KernelDs, GuestLayout.KernelCs32, GuestLayout.KernelCs16, GuestLayout.UserDs,
        GuestLayout.UserCs64, GuestLayout.UserCs32, GuestLayout.UserCs16, GuestLayout.TssSelector,
    ];

    public static ulong Next(SeedRandom rng)
    {
        int kind = rng.Next(100);
        if (kind < 20) return rng.NextU64();
        if (kind < 30) return (ulong)rng.Next(256);
        if (kind < 55) return rng.Pick(Constants);
        var (start, size) = rng.Pick(Regions);
        ulong offset = rng.NextU64() % size;
        if (rng.Chance(50)) offset &= ~0xFFFUL;       // page-aligned half the time
        return start + offset;
    }
}
