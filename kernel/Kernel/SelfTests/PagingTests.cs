using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Memory;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// W^X and the protection bits, each attacked through a fault probe, each with the normal path
// that must keep working.
public sealed unsafe class PagingTests : ITestGroup
{
    public string Name => "paging";
    public bool Hidden => false;

    private static ulong s_target;
    private static ulong s_sink;
    private const ulong PfPresent = 1, PfWrite = 2, PfUser = 4, PfFetch = 16;

    public void Run(TestContext t)
    {
        Layout(t);
        Attacks(t);
        ProtectionBits(t);
        StackGuard(t);
    }

    private static void Layout(TestContext t)
    {
        ulong text = PageTables.Query(LinkerSymbols.TextStart() + 4096);
        ulong sealedPage = PageTables.Query(LinkerSymbols.SealedStart());
        ulong ro = PageTables.Query(LinkerSymbols.RodataStart());
        ulong data = PageTables.Query(LinkerSymbols.DataStart());
        ulong heap = PageTables.Query((ulong)Heap.Allocate(64));
        t.Check(text == PageFlags.Present, "kernel text is R+X", "text rights wrong");
        t.Check(sealedPage == PageFlags.Present, "sealed section is R+X", "sealed rights wrong");
        t.Check(ro == (PageFlags.Present | PageFlags.NoExecute), "rodata is R+NX", "rodata rights wrong");
        t.Check(data == (PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute), "data is RW+NX", "data rights wrong");
        t.Check(heap == (PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute), "rest of RAM is RW+NX", "heap rights wrong");
        t.Check(PageTables.Query(0) == 0 && PageTables.Query(LinkerSymbols.BootStackBottom() - 4096) == 0
            && PageTables.Query(Gdt.IstGuardPage(1)) == 0 && PageTables.Query(Gdt.IstGuardPage(3)) == 0,
            "null page and stack guard pages unmapped", "a guard page is mapped");
        // W^X over the whole image: no page is both writable and executable.
        bool wx = false;
        for (ulong a = LinkerSymbols.ImageStart(); a < LinkerSymbols.ImageEnd(); a += 4096)
        {
            ulong r = PageTables.Query(a);
            if ((r & PageFlags.Writable) != 0 && (r & PageFlags.NoExecute) == 0) wx = true;
        }
        t.Check(!wx, "no kernel page is writable and executable", "W+X page found");
        t.EqualHex(Native.ReadCr3(), PageTables.Root, "kernel page tables active (CR3)");
    }

    private static void Attacks(TestContext t)
    {
        s_target = LinkerSymbols.TextStart() + 0x100;
        Expect(t, FaultProbe.Run(&WriteTarget), PfPresent | PfWrite, "write to kernel text faults (present, write)");
        s_target = LinkerSymbols.SealedStart() + 8;
        Expect(t, FaultProbe.Run(&WriteTarget), PfPresent | PfWrite, "write to the sealed section faults");
        s_target = LinkerSymbols.RodataStart();
        Expect(t, FaultProbe.Run(&WriteTarget), PfPresent | PfWrite, "write to rodata faults");

        byte* code = Heap.Allocate(64);
        code[0] = 0xC3;   // ret
        s_target = (ulong)code;
        if (Protections.Nxe) Expect(t, FaultProbe.Run(&CallTarget), PfPresent | PfFetch, "execute from a data page faults (instruction fetch)");
        else t.Skip("execute from a data page faults (instruction fetch)", "CPU has no NX");
        s_target = LinkerSymbols.RodataStart();
        if (Protections.Nxe) Expect(t, FaultProbe.Run(&CallTarget), PfPresent | PfFetch, "execute from rodata faults");
        else t.Skip("execute from rodata faults", "CPU has no NX");
        s_target = 8;
        Expect(t, FaultProbe.Run(&ReadTarget), 0, "null page read faults (not present)");

        // Normal path: a byte written to a heap page reads back; text is readable.
        code[1] = 0x5A;
        t.Check(code[1] == 0x5A && *(byte*)(LinkerSymbols.TextStart() + 0x100) == *(byte*)(LinkerSymbols.TextStart() + 0x100), "normal reads and writes still work", "heap or text access failed");
    }

    private static void ProtectionBits(TestContext t)
    {
        byte* page = Heap.AllocatePages(1);
        page[8] = 0x77;

        // CR0.WP: a read-only alias of a writable page. A supervisor write through it faults;
        // the same write through a writable alias of the same page goes through, so the fault
        // came from the read-only mapping under WP. (WP itself may be pinned by the host, so the
        // kernel never clears it to show the difference.)
        ulong ro = PageTables.MapAlias((ulong)page, PageFlags.Present | PageFlags.NoExecute);
        ulong rw = PageTables.MapAlias((ulong)page, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute);
        if (Protections.Wp)
        {
            s_target = ro + 16;
            Expect(t, FaultProbe.Run(&WriteTarget), PfPresent | PfWrite, "CR0.WP: supervisor write to a read-only page faults");
            s_target = rw + 16;
            FaultRecord r = FaultProbe.Run(&WriteTarget);
            t.Check(!r.Faulted && page[16] == 0xAB, "CR0.WP: the same write through a writable alias succeeds", "write through the RW alias failed");
        }
        else t.Skip("CR0.WP: supervisor write to a read-only page faults", "CR0.WP could not be set");

        // SMAP: supervisor data access to a user page.
        ulong user = PageTables.MapAlias((ulong)page, PageFlags.Present | PageFlags.Writable | PageFlags.User | PageFlags.NoExecute);
        s_target = user + 8;
        if (Protections.Smap)
        {
            Expect(t, FaultProbe.Run(&ReadTarget), PfPresent, "SMAP: supervisor read of a user page faults");
            FaultRecord r = FaultProbe.Run(&ReadTargetWithAc);
            t.Check(!r.Faulted && s_sink == 0x77, "SMAP: the same read with RFLAGS.AC set succeeds", "STAC read failed");
        }
        else t.Skip("SMAP: supervisor read of a user page faults", "CPU has no SMAP");

        // SMEP: supervisor instruction fetch from a user page. The page is an alias of real kernel
        // text (heki_pause: pause; ret), so only the user bit can be what stops the fetch.
        ulong textPage = PauseAddress() & ~0xFFFUL, offset = PauseAddress() & 0xFFF;
        ulong userCode = PageTables.MapAlias(textPage, PageFlags.Present | PageFlags.User);
        s_target = userCode + offset;
        if (Protections.Smep) Expect(t, FaultProbe.Run(&CallTarget), PfPresent | PfFetch, "SMEP: supervisor execution of a user page faults");
        else t.Skip("SMEP: supervisor execution of a user page faults", "CPU has no SMEP");

        // Normal path for execution: the same bytes through a supervisor R+X alias run.
        ulong kernelCode = PageTables.MapAlias(textPage, PageFlags.Present);
        s_target = kernelCode + offset;
        t.Check(!FaultProbe.Run(&CallTarget).Faulted, "supervisor R+X alias of kernel text executes", "call through an executable alias faulted");

        if (Protections.Umip) t.Check((Native.ReadCr4() & ControlRegisters.Cr4Umip) != 0, "UMIP enabled", "CR4.UMIP clear");
        else t.Skip("UMIP enabled", "CPU has no UMIP");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "heki_sym_pause")]
    private static extern ulong PauseAddress();

    private static void StackGuard(TestContext t)
    {
        FaultRecord r = FaultProbe.Run(&Overflow);
        t.Check(r.Faulted && r.Vector == 8, "stack guard page hit arrives as #DF on the IST stack", "no double fault");
        t.Check(r.Faulted && r.Cr2 >= LinkerSymbols.BootStackBottom() - 4096 && r.Cr2 < LinkerSymbols.BootStackBottom(),
            "the faulting address is the guard page", "CR2 outside the guard page");
    }

    private static void Expect(TestContext t, FaultRecord r, ulong errorBits, string name)
    {
        const ulong mask = PfPresent | PfWrite | PfUser | PfFetch;
        if (r.Faulted && r.Vector == 14 && (r.ErrorCode & mask) == errorBits && r.Cr2 == s_target) { t.Pass(name); return; }
        t.Total++; t.Failed++;
        var o = t.Out;
        o.Write("FAIL: paging: ").Write(name).Write(" (");
        if (!r.Faulted) o.Write("no fault");
        else o.Write("vector ").UDec(r.Vector).Write(" error ").Hex(r.ErrorCode).Write(" cr2 ").Hex(r.Cr2);
        o.Line(")");
    }

    private static void WriteTarget() => *(byte*)s_target = 0xAB;
    private static void ReadTarget() => s_sink = *(byte*)s_target;
    private static void CallTarget() => ((delegate*<void>)s_target)();

    private static void ReadTargetWithAc()
    {
        CpuAccess.Stac();
        s_sink = *(byte*)s_target;
        CpuAccess.Clac();
    }

    private static void Overflow() => s_sink = (ulong)CrashTest.Recurse(1);
}
