using HekiGuest.Abi;
using HekiGuest.Platform;

namespace HekiGuest.Vtl1Monitor;

// VTL0's 4-level page tables as VTL1 sees them once memory is protected: read-only to VTL0, so
// VTL1 presets the accessed/dirty bits VTL0's walks would write, and performs the mapping calls
// (docs/vtl.md section 15). Every table pointer followed must be a registered table page
// (MemoryPolicy.IsTablePage), which also keeps every access inside VTL0's RAM and out of VTL1's.
// After a change VTL1 reloads VTL0's CR3 with its own value (SetVpRegisters), which drops every
// non-global translation of VTL0 (the mapping call refuses the global bit).
public static unsafe class Vtl0PageTables
{
    private const ulong Present = 1, Writable = 2, User = 4, Accessed = 0x20, Dirty = 0x40, Large = 0x80;
    private const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;
    private const ulong LargeSize = 2UL << 20;
    private const byte Vtl0 = HvInputVtl.UseTargetVtl | 0;

    /// <summary>Walks every table reachable from VTL0's CR3, setting the accessed bit of each
    /// present entry and the dirty bit of each leaf. Returns the table pages visited, or -1 (one
    /// report line) when a table lies outside the page-table regions.</summary>
    public static long PresetAccessedDirty()
    {
        if (HvClient.GetRegister(Vtl0, HvRegister.Cr3, out ulong cr3) != HvStatus.Success) return -1;
        s_visits = 0;
        return Preset(cr3 & AddressMask, 3);
    }

    // Tables visited by one preset walk: a table graph VTL0 made cyclic or shared (entries
    // pointing back at their own tables) would otherwise take up to 512^3 visits.
    private const int MaxVisits = 4096;
    private static int s_visits;

    private static long Preset(ulong table, int level)
    {
        if (++s_visits > MaxVisits)
        {
            Machine.Console.Write("protect memory refused: VTL0's page tables need more than ").UDec(MaxVisits).Line(" table visits");
            return -1;
        }
        if (!MemoryPolicy.IsTablePage(table))
        {
            Machine.Console.Write("protect memory refused: VTL0's level-").UDec((ulong)level + 1).Write(" table at ").Hex(table)
                .Line(" is not in a page-table region");
            return -1;
        }
        long pages = 1;
        ulong* e = (ulong*)table;
        for (int i = 0; i < 512; i++)
        {
            if ((e[i] & Present) == 0) continue;
            bool leaf = level == 0 || (level < 3 && (e[i] & Large) != 0);
            e[i] |= leaf ? Accessed | Dirty : Accessed;
            if (leaf) continue;
            long below = Preset(e[i] & AddressMask, level - 1);
            if (below < 0) return -1;
            pages += below;
        }
        return pages;
    }

    public static long Map(ulong va, ulong gpa, ulong flags, out ulong old)
    {
        old = 0;
        if (!MemoryPolicy.Protected || !Canonical(va) || (va & 0xFFF) != 0 || (gpa & ~AddressMask) != 0
            || (flags & ~MonitorMemory.MappingFlags) != 0 || (flags & Present) == 0)
            return MonitorStatus.InvalidArgument;
        bool executable = (flags & (1UL << 63)) == 0;
        if ((flags & Writable) != 0 && executable) return Deny("map", va, gpa, flags, "writable and executable", null);
        uint kind = MemoryPolicy.KindOf(gpa);
        if (kind == MemoryPolicy.MonitorOwn || kind == MonitorMemory.PageTables || kind == MonitorMemory.TablePool || kind == MonitorMemory.Keep)
            return Deny("map", va, gpa, flags, kind);
        if (!Vtl0Memory.Contains(gpa, 4096)) return MonitorStatus.InvalidArgument;
        long st = Leaf(va, true, out ulong* leaf);
        if (st != MonitorStatus.Success) return st;
        old = *leaf;
        st = CheckReplaced(va, gpa, flags, old);
        if (st != MonitorStatus.Success) return st;
        *leaf = gpa | flags | Accessed | Dirty;
        return Flush();
    }

    public static long Unmap(ulong va, out ulong old)
    {
        old = 0;
        if (!MemoryPolicy.Protected || !Canonical(va) || (va & 0xFFF) != 0) return MonitorStatus.InvalidArgument;
        long st = Leaf(va, false, out ulong* leaf);
        if (st != MonitorStatus.Success) return st;
        old = *leaf;
        if ((old & Present) == 0) return MonitorStatus.InvalidArgument;
        st = CheckReplaced(va, 0, 0, old);
        if (st != MonitorStatus.Success) return st;
        *leaf = 0;
        return Flush();
    }

    // The leaf a change would replace must not map text, read-only data, a table or a kept page.
    private static long CheckReplaced(ulong va, ulong gpa, ulong flags, ulong old)
    {
        if ((old & Present) == 0) return MonitorStatus.Success;
        uint was = MemoryPolicy.KindOf(old & AddressMask);
        if (was == MonitorMemory.Data) return MonitorStatus.Success;
        return Deny(flags == 0 ? "unmap" : "map", va, gpa, flags, was, true);
    }

    // The level-0 entry of va. Missing tables come from the pool when allocate is set; a 2 MiB
    // page on the way is split into 512 4 KiB pages with the same rights.
    private static long Leaf(ulong va, bool allocate, out ulong* leaf)
    {
        leaf = null;
        if (HvClient.GetRegister(Vtl0, HvRegister.Cr3, out ulong cr3) != HvStatus.Success) return MonitorStatus.InvalidArgument;
        ulong table = cr3 & AddressMask;
        for (int level = 3; level > 0; level--)
        {
            if (!MemoryPolicy.IsTablePage(table))
                return Deny("walk", va, table, 0, "a table outside the registered page tables", null);
            ulong* e = (ulong*)table + ((va >> (12 + 9 * level)) & 511);
            if ((*e & Present) == 0)
            {
                if (!allocate) return MonitorStatus.InvalidArgument;
                ulong page = NewTable();
                if (page == 0) return MonitorStatus.InvalidArgument;
                *e = page | Present | Writable | User | Accessed;
            }
            else if ((*e & Large) != 0)
            {
                if (level != 1) return MonitorStatus.InvalidArgument;   // 1 GiB pages: the kernel makes none
                ulong page = NewTable();
                if (page == 0) return MonitorStatus.InvalidArgument;
                ulong first = *e & AddressMask & ~(LargeSize - 1);
                ulong rights = (*e & ~AddressMask & ~Large) | Accessed | Dirty;
                ulong* split = (ulong*)page;
                for (int i = 0; i < 512; i++) split[i] = (first + (ulong)i * 4096) | rights;
                *e = page | Present | Writable | User | Accessed;
            }
            table = *e & AddressMask;
        }
        if (!MemoryPolicy.IsTablePage(table)) return Deny("walk", va, table, 0, "a table outside the registered page tables", null);
        leaf = (ulong*)table + ((va >> 12) & 511);
        return MonitorStatus.Success;
    }

    private static ulong NewTable()
    {
        ulong page = MemoryPolicy.TakeTablePage();
        if (page == 0) Machine.Console.Line("mapping refused: the table pool the kernel donated is used up");
        return page;
    }

    // VTL0's CR3 written with its own value: the host drops VTL0's cached translations.
    private static long Flush()
    {
        if (HvClient.GetRegister(Vtl0, HvRegister.Cr3, out ulong cr3) != HvStatus.Success
            || HvClient.SetRegister(Vtl0, HvRegister.Cr3, cr3) != HvStatus.Success)
            MonitorMain.Stop("could not reload VTL0's CR3 after a mapping change", cr3);
        return MonitorStatus.Success;
    }

    private static bool Canonical(ulong va) => (ulong)((long)(va << 16) >> 16) == va;

    private static long Deny(string what, ulong va, ulong gpa, ulong flags, uint kind, bool replaced = false)
        => Deny(what, va, gpa, flags, replaced ? "the VA maps " : "the page is ", MemoryPolicy.KindName(kind));

    // One report line (no allocation: the service loop allocates nothing).
    private static long Deny(string what, ulong va, ulong gpa, ulong flags, string why, string detail)
    {
        Dispatcher.CountDenial();
        var c = Machine.Console;
        c.Write("denied VTL0 ").Write(what).Write(" of va=").Hex(va);
        if (what != "unmap") c.Write(" gpa=").Hex(gpa);
        if (what == "map") c.Write(" flags=").Hex(flags);
        c.Write(": ").Write(why);
        if (detail != null) c.Write(detail);
        c.Line();
        return MonitorStatus.Denied;
    }
}
