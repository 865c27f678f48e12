using HekiGuest.Abi;
using HekiGuest.Kernel.Memory;
using HekiGuest.Kernel.Vtl;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Testing;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// W^X and page-table protection enforced from VTL1 (docs/vtl.md section 15, protect memory and
// the mapping calls), part of the vtl1 group. Each attack must add exactly one monitor denial;
// the three the host intercepts print an "expect intercept" line, which the boot harness matches
// with one `vtl1: denied` line and one host intercept event. Elsewhere each is a SKIP naming why
// the monitor does not run.
public static unsafe class Vtl1MemoryTests
{
    private static readonly string[] Names =
    {
        "memory protected by VTL1 at boot, once",
        "mov cr4 bytes written to data and jumped to: execution refused by VTL1",
        "write to kernel text through a writable alias: refused by VTL1",
        "page-table entry write making text writable: refused by VTL1",
        "mapping a page W+X through the monitor is denied",
        "remapping kernel text through the monitor is denied",
        "a fresh RW page mapped through the monitor is written, read, unmapped, then faults",
        "protect memory refuses malformed region tables, and W+X as a denial",
    };

    // mov cr4, rax; ret. Data, not code immediates: sealcheck refuses a privileged encoding
    // hidden in the kernel's instruction stream.
    private static readonly byte[] MovCr4 = { 0x0F, 0x22, 0xE0, 0xC3 };

    private const ulong PfPresent = 1;
    private static ulong s_target, s_value;

    public static void Run(TestContext t)
    {
        if (!VtlCall.MonitorRunning || MemoryProtection.Status != MonitorStatus.Success)
        {
            string why = VtlCall.MonitorRunning ? "the monitor refused to protect memory at boot" : MonitorBoot.Reason;
            for (int i = 0; i < Names.Length; i++) t.Skip(Names[i], why);
            t.Skip(Vtl1MemoryStorm.Name, why);
            return;
        }
        long again = VtlCall.Call(MonitorCall.ProtectMemory, 0, 0, 0, out _, out _);
        t.Check(MemoryProtection.TablePages > 0 && MemoryProtection.PagesMasked > 0 && MonitorMappings.Active && again == MonitorStatus.BootOnly,
            Names[0], "not protected, or protect memory accepted after end of boot");

        Validation(t);
        ExecuteData(t);
        TextAlias(t);
        PageTableWrite(t);
        WriteExecuteMapping(t);
        RemapText(t);
        NormalPath(t);
        Vtl1MemoryStorm.Run(t);
    }

    // The malformed tables the kernel sent before its own (MemoryProtection.ProbeValidation): every
    // one refused with nothing applied (the real table was accepted afterwards), W+X as a denial.
    private static void Validation(TestContext t)
    {
        long[] st = MemoryProtection.ValidationStatuses;
        bool invalid = true;
        for (int i = 0; i < st.Length - 1; i++) invalid &= st[i] == MonitorStatus.InvalidArgument;
        t.Check(invalid && st[st.Length - 1] == MonitorStatus.Denied && MemoryProtection.ValidationDenials == 1,
            Names[7], "a malformed table was not refused with status 3, or W+X not denied exactly once");
    }

    private static ulong Denials()
    {
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong n, out _);
        return n;
    }

    private static void ExecuteData(TestContext t)
    {
        byte* page = Heap.AllocatePages(1);
        for (int i = 0; i < MovCr4.Length; i++) page[i] = MovCr4[i];
        ulong va = PageTables.NextAliasPage();
        long st = VtlCall.Call(MonitorCall.MapPage, va, (ulong)page, PageFlags.Present, out _, out _);
        ulong before = Denials();
        ulong cr4 = Native.ReadCr4();
        s_target = va;
        t.Out.Write("  monitor: expect intercept kind=memory access=execute gpa=").Hex((ulong)page).Line();
        FaultRecord r = FaultProbe.Run(&CallTarget);
        t.Check(st == MonitorStatus.Success && r.Faulted && r.Vector == 13 && Denials() == before + 1 && Native.ReadCr4() == cr4,
            Names[1], "the executable alias was refused, the bytes ran, or no single VTL1 denial");
    }

    private static void TextAlias(TestContext t)
    {
        ulong textPage = LinkerSymbols.TextStart() + 0x1000;
        ulong va = PageTables.NextAliasPage();
        long st = VtlCall.Call(MonitorCall.MapPage, va, textPage, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute, out _, out _);
        byte original = *(byte*)(textPage + 0x40);
        ulong before = Denials();
        s_target = va + 0x40;
        t.Out.Write("  monitor: expect intercept kind=memory access=write gpa=").Hex(textPage + 0x40).Line();
        FaultRecord r = FaultProbe.Run(&WriteTarget);
        t.Check(st == MonitorStatus.Success && r.Faulted && r.Vector == 13 && *(byte*)(textPage + 0x40) == original && Denials() == before + 1,
            Names[2], "the alias was refused, text changed, or no single VTL1 denial");
    }

    private static void PageTableWrite(TestContext t)
    {
        ulong textPage = LinkerSymbols.TextStart() + 0x1000;
        ulong* pte = PageTables.LeafEntry(textPage, out int level);
        if (pte == null || level != 0)
        {
            t.Fail(Names[3], "kernel text has no 4 KiB leaf");
            return;
        }
        ulong entry = *pte;
        ulong before = Denials();
        s_target = (ulong)pte;
        s_value = entry | PageFlags.Writable;
        t.Out.Write("  monitor: expect intercept kind=memory access=write gpa=").Hex((ulong)pte).Line();
        FaultRecord r = FaultProbe.Run(&WriteEntry);
        t.Check(r.Faulted && r.Vector == 13 && *pte == entry && (PageTables.Query(textPage) & PageFlags.Writable) == 0 && Denials() == before + 1,
            Names[3], "the entry changed or no single VTL1 denial");
    }

    private static void WriteExecuteMapping(TestContext t)
    {
        byte* page = Heap.AllocatePages(1);
        ulong va = PageTables.NextAliasPage();
        ulong before = Denials();
        long st = VtlCall.Call(MonitorCall.MapPage, va, (ulong)page, PageFlags.Present | PageFlags.Writable, out _, out _);
        t.Check(st == MonitorStatus.Denied && PageTables.Query(va) == 0 && Denials() == before + 1,
            Names[4], "a W+X mapping was not denied, or it was made");
    }

    private static void RemapText(TestContext t)
    {
        byte* page = Heap.AllocatePages(1);
        ulong textPage = LinkerSymbols.TextStart() + 0x1000;
        ulong rights = PageTables.Query(textPage);
        ulong before = Denials();
        long st = VtlCall.Call(MonitorCall.MapPage, textPage, (ulong)page, PageFlags.Present | PageFlags.NoExecute, out _, out _);
        long un = VtlCall.Call(MonitorCall.UnmapPage, textPage, 0, 0, out _, out _);
        t.Check(st == MonitorStatus.Denied && un == MonitorStatus.Denied && PageTables.LeafAddress(textPage) == textPage
            && PageTables.Query(textPage) == rights && Denials() == before + 2,
            Names[5], "kernel text was remapped or unmapped, or not two VTL1 denials");
    }

    private static void NormalPath(TestContext t)
    {
        byte* page = Heap.AllocatePages(1);
        ulong va = PageTables.NextAliasPage();
        ulong before = Denials();
        long map = VtlCall.Call(MonitorCall.MapPage, va, (ulong)page, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute, out _, out _);
        bool mapped = map == MonitorStatus.Success && PageTables.Query(va) == (PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute);
        if (mapped)
        {
            *(ulong*)(va + 8) = 0x1234_5678_9ABC_DEF0UL;
            mapped = *(ulong*)(va + 8) == 0x1234_5678_9ABC_DEF0UL && *(ulong*)(page + 8) == 0x1234_5678_9ABC_DEF0UL;
        }
        long unmap = VtlCall.Call(MonitorCall.UnmapPage, va, 0, 0, out ulong old, out _);
        s_target = va + 8;
        FaultRecord r = FaultProbe.Run(&ReadTarget);
        t.Check(mapped && unmap == MonitorStatus.Success && (old & PageFlags.AddressMask) == (ulong)page
            && r.Faulted && r.Vector == 14 && (r.ErrorCode & PfPresent) == 0 && r.Cr2 == va + 8 && Denials() == before,
            Names[6], "the mapping failed, the unmapped page did not fault, or something was denied");
    }

    private static void CallTarget() => ((delegate*<void>)s_target)();
    private static void WriteTarget() => *(byte*)s_target = 0xAB;
    private static void WriteEntry() => *(ulong*)s_target = s_value;
    private static void ReadTarget() => s_value = *(ulong*)s_target;
}
