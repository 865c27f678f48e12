using HekiGuest.Abi;
using HekiGuest.Kernel.Memory;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.Vtl;

// Protect memory, the kernel's half (docs/vtl.md section 15): the region table the VTL1 monitor
// turns into VTL0 masks. The kernel is identity-mapped, so its linker symbols are its GPAs: text
// R+X, rodata R, data/bss/heap R+W (as is the rest of RAM the table does not name), every page of
// its page tables R, a pool of zeroed pages the monitor builds new tables from, and the sealed
// section kept as it is (its hand-over owns it). From then on PageTables changes mappings only
// through the monitor (MonitorMappings).
public static unsafe class MemoryProtection
{
    public const int PoolPages = 32;

    public static long Status = MonitorStatus.NoMonitor;
    public static ulong TablePages, PagesMasked, PoolStart;

    private static ulong* s_table;
    private static int s_count;

    public static void Apply(TextOut c)
    {
        s_table = (ulong*)Heap.Allocate((ulong)MonitorMemory.MaxRegions * MonitorMemory.EntrySize);
        s_count = 0;
        Add(LinkerSymbols.TextStart(), LinkerSymbols.TextEnd(), MonitorMemory.Text, HvMapGpa.Read | HvMapGpa.KernelExecute);
        Add(LinkerSymbols.SealedStart(), LinkerSymbols.SealedEnd(), MonitorMemory.Keep, HvMapGpa.None);
        Add(LinkerSymbols.RodataStart(), LinkerSymbols.RodataEnd(), MonitorMemory.ReadOnly, HvMapGpa.Read);
        Add(LinkerSymbols.DataStart(), LinkerSymbols.DataEnd(), MonitorMemory.Data, HvMapGpa.Read | HvMapGpa.Write);
        PoolStart = (ulong)Heap.AllocatePages(PoolPages);
        Add(PoolStart, PoolStart + PoolPages * 4096UL, MonitorMemory.TablePool, HvMapGpa.Read);
        if (!AddTables(PageTables.Root, 3))
        {
            c.Line("monitor: memory NOT protected: the page tables need more regions than the table holds");
            return;
        }
        ProbeValidation();
        Status = VtlCall.Call(MonitorCall.ProtectMemory, (ulong)s_table, (ulong)s_count, 0, out TablePages, out PagesMasked);
        if (Status != MonitorStatus.Success)
        {
            c.Write("monitor: memory NOT protected: the monitor answered status ").Dec(Status).Line();
            return;
        }
        MonitorMappings.Active = true;
        c.Write("monitor: memory protected by VTL1: text ").Hex(LinkerSymbols.TextStart()).Write('-').Hex(LinkerSymbols.TextEnd())
            .Write(" R+X, rodata ").Hex(LinkerSymbols.RodataStart()).Write('-').Hex(LinkerSymbols.RodataEnd())
            .Write(" R, data ").Hex(LinkerSymbols.DataStart()).Write('-').Hex(LinkerSymbols.DataEnd())
            .Write(" and the rest of RAM R+W never X, page tables R (").UDec(TablePages).Write(" pages), ")
            .UDec(PoolPages).Line(" pool pages for new tables; sealed section left to its hand-over");
    }

    /// <summary>The monitor's answers to the malformed tables of <see cref="ProbeValidation"/>, in
    /// order: misaligned, overlapping, beyond RAM, over VTL1's memory, a mask the kind may not ask,
    /// no page-table region, no entries, too many entries, the table itself in VTL1's memory, and
    /// (last) a data region asking W+X. The self-tests check them.</summary>
    public static long[] ValidationStatuses = new long[10];
    public static ulong ValidationDenials;

    // Before the real call (protect memory is accepted once): tables the monitor must refuse with
    // nothing applied. Each is the kernel's text entry, changed in one way.
    private static void ProbeValidation()
    {
        ulong* bad = (ulong*)Heap.Allocate(3 * MonitorMemory.EntrySize);
        ulong start = s_table[0], end = s_table[1], kindMask = s_table[2];
        ulong tables = s_table[3 * (s_count - 1)];
        ulong tableKind = MonitorMemory.PageTables | ((ulong)HvMapGpa.Read << 32);
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        ValidationStatuses[0] = Try(bad, 2, start + 8, end, kindMask, tables, tableKind);
        ValidationStatuses[1] = Try(bad, 3, start, end, kindMask, tables, tableKind, start, end, kindMask);
        ValidationStatuses[2] = Try(bad, 2, MonitorBoot.RamEnd, MonitorBoot.RamEnd + 4096, MonitorMemory.ReadOnly | ((ulong)HvMapGpa.Read << 32), tables, tableKind);
        ValidationStatuses[3] = Try(bad, 2, MonitorBoot.Low, MonitorBoot.Low + 4096, MonitorMemory.ReadOnly | ((ulong)HvMapGpa.Read << 32), tables, tableKind);
        ValidationStatuses[4] = Try(bad, 2, start, end, MonitorMemory.Text | ((ulong)(HvMapGpa.Read | HvMapGpa.Write) << 32), tables, tableKind);
        ValidationStatuses[5] = Try(bad, 1, start, end, kindMask, 0, 0);
        ValidationStatuses[6] = VtlCall.Call(MonitorCall.ProtectMemory, (ulong)bad, 0, 0, out _, out _);
        ValidationStatuses[7] = VtlCall.Call(MonitorCall.ProtectMemory, (ulong)bad, MonitorMemory.MaxRegions + 1, 0, out _, out _);
        ValidationStatuses[8] = VtlCall.Call(MonitorCall.ProtectMemory, MonitorBoot.Low, 1, 0, out _, out _);
        ValidationStatuses[9] = Try(bad, 2, start, end, MonitorMemory.Data | ((ulong)(HvMapGpa.Read | HvMapGpa.Write | HvMapGpa.KernelExecute) << 32), tables, tableKind);
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong after, out _);
        ValidationDenials = after - before;
    }

    private static long Try(ulong* bad, int count, ulong s0, ulong e0, ulong k0, ulong s1, ulong k1, ulong s2 = 0, ulong e2 = 0, ulong k2 = 0)
    {
        bad[0] = s0; bad[1] = e0; bad[2] = k0;
        bad[3] = s1; bad[4] = s1 + 4096; bad[5] = k1;
        bad[6] = s2; bad[7] = e2; bad[8] = k2;
        return VtlCall.Call(MonitorCall.ProtectMemory, (ulong)bad, (ulong)count, 0, out _, out _);
    }

    // Every table page reachable from one of the given level (3 = the PML4), adjacent pages merged.
    private static bool AddTables(ulong table, int level)
    {
        if (!AddPage(table)) return false;
        if (level == 0) return true;
        ulong* e = (ulong*)table;
        for (int i = 0; i < 512; i++)
        {
            if ((e[i] & PageFlags.Present) == 0 || (level < 3 && (e[i] & PageFlags.Large) != 0)) continue;
            if (!AddTables(e[i] & PageFlags.AddressMask, level - 1)) return false;
        }
        return true;
    }

    private static bool AddPage(ulong page)
    {
        for (int i = 0; i < s_count; i++)
        {
            ulong* r = s_table + i * 3;
            if ((uint)r[2] != MonitorMemory.PageTables) continue;
            if (page >= r[0] && page < r[1]) return true;
            if (r[1] == page) { r[1] += 4096; return true; }
        }
        if (s_count == MonitorMemory.MaxRegions) return false;
        Add(page, page + 4096, MonitorMemory.PageTables, HvMapGpa.Read);
        return true;
    }

    private static void Add(ulong start, ulong end, uint kind, uint mask)
    {
        ulong* r = s_table + s_count * 3;
        r[0] = start;
        r[1] = end;
        r[2] = kind | ((ulong)mask << 32);
        s_count++;
    }
}
