using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Kernel.Memory;

// The kernel's own 4-level page tables. RAM is identity-mapped RW+NX (2 MiB pages), except the
// 2 MiB regions that hold the kernel image, which use 4 KiB pages: text and the sealed section
// R+X, rodata R+NX, data/bss RW+NX, page 0 and every stack guard page not present.
// Test mappings (aliases, user pages) live at AliasBase and above, away from the identity map.
// Once the VTL1 monitor protects memory (Vtl.MonitorMappings.Active) the tables are read-only to
// the kernel: every change is a monitor call instead of a write.
public static unsafe class PageTables
{
    public const ulong AliasBase = 0x80_0000_0000UL;     // PML4 slot 1: nothing else there
    private const ulong Large = 2UL << 20;

    private static ulong* s_pml4;
    private static ulong s_nextAlias = AliasBase;
    public static ulong MappedTop;
    public static int TablePages;

    public static ulong Root => (ulong)s_pml4;

    private static ulong* NewTable()
    {
        TablePages++;
        return (ulong*)Heap.AllocatePages(1);
    }

    // The entry for address at the given level (3 = PML4 .. 0 = PT), creating tables on the way.
    // A 2 MiB page met on the way to level 0 is split into 512 pages with the same rights.
    private static ulong* Entry(ulong address, int level)
    {
        ulong* table = s_pml4;
        for (int l = 3; l > level; l--)
        {
            ulong* e = table + ((address >> (12 + 9 * l)) & 511);
            if ((*e & PageFlags.Present) == 0)
            {
                *e = (ulong)NewTable() | PageFlags.Present | PageFlags.Writable | PageFlags.User;
            }
            else if ((*e & PageFlags.Large) != 0)
            {
                ulong* split = NewTable();
                ulong baseAddr = *e & PageFlags.AddressMask & ~(Large - 1);
                ulong rights = *e & ~PageFlags.AddressMask & ~PageFlags.Large;
                for (int i = 0; i < 512; i++) split[i] = (baseAddr + (ulong)i * 4096) | rights;
                *e = (ulong)split | PageFlags.Present | PageFlags.Writable | PageFlags.User;
            }
            table = (ulong*)(*e & PageFlags.AddressMask);
        }
        return table + ((address >> (12 + 9 * level)) & 511);
    }

    public static void Map4K(ulong virt, ulong phys, ulong flags)
    {
        if (Vtl.MonitorMappings.Active) Vtl.MonitorMappings.Map(virt, phys & PageFlags.AddressMask, flags);
        else *Entry(virt, 0) = (phys & PageFlags.AddressMask) | flags;
    }

    public static void Unmap4K(ulong virt)
    {
        if (Vtl.MonitorMappings.Active) Vtl.MonitorMappings.Unmap(virt);
        else *Entry(virt, 0) = 0;
    }

    public static void Build(BootInfo boot)
    {
        s_pml4 = NewTable();
        // Top of RAM below 4 GiB, from the memory map, rounded up to 2 MiB.
        ulong top = 0;
        for (int i = 0; i < boot.RegionCount; i++)
        {
            ulong end = boot.Regions[i].Base + boot.Regions[i].Length;
            if (boot.Regions[i].Type == MemoryType.Usable && end > top) top = end;
        }
        if (top > BootInfo.IdentityMapLimit) top = BootInfo.IdentityMapLimit;
        ulong kernelEnd = LinkerSymbols.ImageEnd();
        if (top < kernelEnd) top = kernelEnd;
        top = (top + Large - 1) & ~(Large - 1);
        MappedTop = top;
        for (ulong a = 0; a < top; a += Large)
            *Entry(a, 1) = a | PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute | PageFlags.Large;

        // The kernel image, page by page.
        for (ulong a = LinkerSymbols.ImageStart(); a < kernelEnd; a += 4096)
            Map4K(a, a, ImageRights(a));
        Unmap4K(0);
        Unmap4K(LinkerSymbols.BootStackBottom() - 4096);
        for (int ist = 1; ist <= 3; ist++) Unmap4K(Gdt.IstGuardPage(ist));
    }

    private static ulong ImageRights(ulong a)
    {
        if (a >= LinkerSymbols.TextStart() && a < LinkerSymbols.TextEnd()) return PageFlags.KernelText;
        if (a >= LinkerSymbols.SealedStart() && a < LinkerSymbols.SealedEnd()) return PageFlags.KernelText;
        if (a >= LinkerSymbols.RodataStart() && a < LinkerSymbols.RodataEnd()) return PageFlags.KernelReadOnly;
        return PageFlags.KernelData;
    }

    public static void Activate() => SealedOps.WriteCr3(Root);

    // Effective leaf rights for an address: flags of the leaf entry, with Writable/User cleared
    // and NoExecute set if any level denies them. 0 when not mapped.
    public static ulong Query(ulong address)
    {
        ulong* table = s_pml4;
        ulong rights = PageFlags.Writable | PageFlags.User;
        bool nx = false;
        for (int l = 3; l >= 0; l--)
        {
            ulong e = table[(address >> (12 + 9 * l)) & 511];
            if ((e & PageFlags.Present) == 0) return 0;
            rights &= e;
            nx |= (e & PageFlags.NoExecute) != 0;
            if (l == 0 || (e & PageFlags.Large) != 0)
                return PageFlags.Present | rights | (nx ? PageFlags.NoExecute : 0);
            table = (ulong*)(e & PageFlags.AddressMask);
        }
        return 0;
    }

    /// <summary>A fresh virtual page in the alias area, not mapped.</summary>
    public static ulong NextAliasPage()
    {
        ulong v = s_nextAlias;
        s_nextAlias += 4096;
        return v;
    }

    // Maps a fresh virtual page (in the alias area) onto phys with the given rights.
    public static ulong MapAlias(ulong phys, ulong flags)
    {
        ulong v = s_nextAlias;
        s_nextAlias += 4096;
        Map4K(v, phys, flags);
        Native.InvalidatePage(v);
        return v;
    }

    // Reserves a 2 MiB-aligned alias window whose page-directory entry points at tablePhys, so
    // that the 512 qwords of that page serve as its page table (accessed bit preset in the PDE).
    // Returns the window's first linear address.
    public static ulong MapTableAlias(ulong tablePhys)
    {
        const ulong Window = 2UL << 20;
        if (Vtl.MonitorMappings.Active) HekiGuest.Platform.Runtime.Panic.Stop("MapTableAlias writes a page-directory entry: the VTL1 monitor owns the page tables");
        ulong v = (s_nextAlias + Window - 1) & ~(Window - 1);
        s_nextAlias = v + Window;
        ulong* pde = Entry(v, 1);
        *pde = (tablePhys & PageFlags.AddressMask) | PageFlags.Present | PageFlags.Writable | PageFlags.Accessed;
        return v;
    }

    public static void SetRights(ulong virt, ulong flags)
    {
        if (Vtl.MonitorMappings.Active) Vtl.MonitorMappings.Map(virt, LeafAddress(virt), flags);
        else
        {
            ulong* e = Entry(virt, 0);
            *e = (*e & PageFlags.AddressMask) | flags;
        }
        Native.InvalidatePage(virt);
    }

    /// <summary>The physical address of the page <paramref name="address"/> lies in, read from
    /// its 4 KiB or 2 MiB leaf without changing a table; 0 when not mapped.</summary>
    public static ulong LeafAddress(ulong address)
    {
        ulong* e = LeafEntry(address, out int level);
        if (e == null) return 0;
        return level == 0 ? *e & PageFlags.AddressMask
            : (*e & PageFlags.AddressMask & ~(Large - 1)) + (address & (Large - 1) & ~0xFFFUL);
    }

    /// <summary>The present leaf entry of an address (level 0, or 1 for a 2 MiB page), or null;
    /// reads only.</summary>
    public static ulong* LeafEntry(ulong address, out int level)
    {
        ulong* table = s_pml4;
        for (level = 3; level >= 0; level--)
        {
            ulong* e = table + ((address >> (12 + 9 * level)) & 511);
            if ((*e & PageFlags.Present) == 0) return null;
            if (level == 0 || (level == 1 && (*e & PageFlags.Large) != 0)) return e;
            table = (ulong*)(*e & PageFlags.AddressMask);
        }
        return null;
    }
}
