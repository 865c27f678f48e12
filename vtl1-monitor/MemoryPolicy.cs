using HekiGuest.Abi;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Vtl1Monitor;

// Protect memory (docs/vtl.md section 15): the region table the kernel gave at boot, checked,
// applied as VTL0 masks (ModifyVtlProtectionMask), and kept in VTL1's memory as the answer to
// "what is this VTL0 page" for the mapping calls. Text R + kernel execute, read-only data R,
// page tables and the table pool R, kept regions (the sealed section) untouched, every other
// VTL0 page R+W and never executable. Nothing can add an executable page later: the call is
// boot-only and runs once, so the policy is sealed at end of boot at the latest.
public static unsafe class MemoryPolicy
{
    private struct Region
    {
        public ulong Start, End;
        public uint Kind, Mask;
    }

    /// <summary>KindOf's answer for the monitor's own pages (never in a region table).</summary>
    public const uint MonitorOwn = 0x100;

    private static Region* s_regions;
    private static int s_count;
    private static int s_poolRegion;
    private static ulong s_poolNext;

    public static bool Protected;

    /// <summary>Before the first VTL return: the region copy lives in VTL1's memory.</summary>
    public static void Initialize() => s_regions = (Region*)Heap.AllocatePages(1);

    public static long Protect(ulong tableGpa, ulong count, out ulong tablePages, out ulong pages)
    {
        tablePages = pages = 0;
        if (Protected) return MonitorStatus.AlreadyDone;
        if (count == 0 || count > MonitorMemory.MaxRegions || (tableGpa & 7) != 0
            || !Vtl0Memory.Contains(tableGpa, count * MonitorMemory.EntrySize))
            return MonitorStatus.InvalidArgument;
        // Copy first: every later check reads VTL1's copy, never VTL0's memory again.
        for (int i = 0; i < (int)count; i++)
        {
            byte* e = (byte*)tableGpa + i * MonitorMemory.EntrySize;
            s_regions[i].Start = *(ulong*)e;
            s_regions[i].End = *(ulong*)(e + 8);
            s_regions[i].Kind = *(uint*)(e + MonitorMemory.KindOffset);
            s_regions[i].Mask = *(uint*)(e + MonitorMemory.MaskOffset);
        }
        s_count = (int)count;
        long check = Validate();
        if (check != MonitorStatus.Success)
        {
            s_count = 0;
            return check;
        }
        s_poolRegion = NextPool(-1);
        s_poolNext = s_poolRegion < 0 ? 0 : s_regions[s_poolRegion].Start;

        // VTL0's page tables, walked from its CR3: every table in a page-table region, every
        // entry's accessed (and a leaf's dirty) bit set now, since VTL0's walks cannot write them.
        long found = Vtl0PageTables.PresetAccessedDirty();
        if (found < 0)
        {
            s_count = 0;
            return MonitorStatus.InvalidArgument;
        }
        tablePages = (ulong)found;

        for (int i = 0; i < s_count; i++)
            if (s_regions[i].Kind == MonitorMemory.TablePool)
                for (ulong p = s_regions[i].Start; p < s_regions[i].End; p += 4096) Zero(p);

        // Everything VTL0 owns but the kept regions: R+W, then each region's own mask.
        ulong cursor = 0;
        while (cursor < Vtl0Memory.RamEnd)
        {
            ulong skipTo = ExclusionEnd(cursor);
            if (skipTo != 0) { cursor = skipTo; continue; }
            ulong next = NextExclusion(cursor);
            Apply(cursor, next, HvMapGpa.Read | HvMapGpa.Write, ref pages);
            cursor = next;
        }
        ulong again = 0;
        for (int i = 0; i < s_count; i++)
            if (s_regions[i].Kind != MonitorMemory.Keep && s_regions[i].Kind != MonitorMemory.Data)
                Apply(s_regions[i].Start, s_regions[i].End, s_regions[i].Mask, ref again);
        Protected = true;
        Machine.Console.Write("memory protected: ").UDec((ulong)s_count).Write(" regions, ").UDec(pages)
            .Write(" VTL0 pages masked, ").UDec(tablePages).Line(" page-table pages read-only with accessed/dirty preset");
        return MonitorStatus.Success;
    }

    /// <summary>The region kind of a VTL0 page (<see cref="MonitorMemory.Data"/> when unnamed),
    /// or <see cref="MonitorOwn"/>.</summary>
    public static uint KindOf(ulong gpa)
    {
        if (gpa >= Vtl0Memory.MonitorStart && gpa < Vtl0Memory.MonitorEnd) return MonitorOwn;
        for (int i = 0; i < s_count; i++)
            if (s_regions[i].Kind != MonitorMemory.Data && gpa >= s_regions[i].Start && gpa < s_regions[i].End) return s_regions[i].Kind;
        return MonitorMemory.Data;
    }

    /// <summary>A page VTL0's walk may use as a table: one of a page-table region, or a pool
    /// page the monitor already linked in.</summary>
    public static bool IsTablePage(ulong gpa)
    {
        for (int i = 0; i < s_count; i++)
        {
            if (s_regions[i].Kind == MonitorMemory.Data || gpa < s_regions[i].Start || gpa >= s_regions[i].End) continue;
            if (s_regions[i].Kind == MonitorMemory.PageTables) return true;
            if (s_regions[i].Kind != MonitorMemory.TablePool) return false;
            return s_poolRegion < 0 || i < s_poolRegion || (i == s_poolRegion && gpa < s_poolNext);
        }
        return false;
    }

    /// <summary>A zeroed pool page for a new table, or 0 when the pool is used up.</summary>
    public static ulong TakeTablePage()
    {
        if (s_poolRegion < 0) return 0;
        ulong page = s_poolNext;
        s_poolNext += 4096;
        if (s_poolNext >= s_regions[s_poolRegion].End)
        {
            s_poolRegion = NextPool(s_poolRegion);
            s_poolNext = s_poolRegion < 0 ? 0 : s_regions[s_poolRegion].Start;
        }
        Zero(page);
        return page;
    }

    public static string KindName(uint kind) => kind switch
    {
        MonitorMemory.Text => "kernel text",
        MonitorMemory.ReadOnly => "read-only data",
        MonitorMemory.PageTables => "a page table",
        MonitorMemory.TablePool => "the table pool",
        MonitorMemory.Keep => "a kept region (sealed section)",
        MonitorOwn => "VTL1's memory",
        _ => "data",
    };

    private static long Validate()
    {
        bool text = false, tables = false;
        for (int i = 0; i < s_count; i++)
        {
            Region r = s_regions[i];
            if (((r.Start | r.End) & 0xFFF) != 0 || r.End <= r.Start || !Vtl0Memory.Contains(r.Start, r.End - r.Start))
                return MonitorStatus.InvalidArgument;
            if ((r.Mask & HvMapGpa.Write) != 0 && (r.Mask & (HvMapGpa.KernelExecute | HvMapGpa.UserExecute)) != 0)
            {
                Dispatcher.CountDenial();
                Machine.Console.Write("denied protect memory: region ").UDec((ulong)i).Write(' ').Hex(r.Start).Write('-').Hex(r.End)
                    .Write(" asks W+X (mask ").Hex(r.Mask).Line(")");
                return MonitorStatus.Denied;
            }
            if (r.Mask != MaskOf(r.Kind)) return MonitorStatus.InvalidArgument;
            text |= r.Kind == MonitorMemory.Text;
            tables |= r.Kind == MonitorMemory.PageTables;
            // Data regions are the default and may hold any of the others; the others are disjoint.
            for (int j = 0; j < i; j++)
                if (r.Kind != MonitorMemory.Data && s_regions[j].Kind != MonitorMemory.Data
                    && r.Start < s_regions[j].End && s_regions[j].Start < r.End) return MonitorStatus.InvalidArgument;
        }
        return text && tables ? MonitorStatus.Success : MonitorStatus.InvalidArgument;
    }

    // The mask each kind must ask for; 0xFFFFFFFF (never matches) for an unknown kind.
    private static uint MaskOf(uint kind) => kind switch
    {
        MonitorMemory.Text => HvMapGpa.Read | HvMapGpa.KernelExecute,
        MonitorMemory.ReadOnly or MonitorMemory.PageTables or MonitorMemory.TablePool => HvMapGpa.Read,
        MonitorMemory.Data => HvMapGpa.Read | HvMapGpa.Write,
        MonitorMemory.Keep => HvMapGpa.None,
        _ => 0xFFFFFFFF,
    };

    private static int NextPool(int after)
    {
        for (int i = after + 1; i < s_count; i++)
            if (s_regions[i].Kind == MonitorMemory.TablePool) return i;
        return -1;
    }

    // The end of the exclusion (the monitor's pages or a kept region) holding gpa, or 0.
    private static ulong ExclusionEnd(ulong gpa)
    {
        if (gpa >= Vtl0Memory.MonitorStart && gpa < Vtl0Memory.MonitorEnd) return Vtl0Memory.MonitorEnd;
        for (int i = 0; i < s_count; i++)
            if (s_regions[i].Kind == MonitorMemory.Keep && gpa >= s_regions[i].Start && gpa < s_regions[i].End) return s_regions[i].End;
        return 0;
    }

    // The first exclusion start above gpa, or VTL0's RAM end.
    private static ulong NextExclusion(ulong gpa)
    {
        ulong next = Vtl0Memory.RamEnd;
        if (Vtl0Memory.MonitorStart > gpa && Vtl0Memory.MonitorStart < next) next = Vtl0Memory.MonitorStart;
        for (int i = 0; i < s_count; i++)
            if (s_regions[i].Kind == MonitorMemory.Keep && s_regions[i].Start > gpa && s_regions[i].Start < next) next = s_regions[i].Start;
        return next;
    }

    private static void Apply(ulong start, ulong end, uint mask, ref ulong pages)
    {
        ushort st = HvClient.ProtectVtl0(start, end, mask);
        if (st != HvStatus.Success) MonitorMain.Stop("ModifyVtlProtectionMask refused a VTL0 range, status", st);
        pages += (end - start) >> 12;
    }

    private static void Zero(ulong page)
    {
        ulong* p = (ulong*)page;
        for (int i = 0; i < 512; i++) p[i] = 0;
    }
}
