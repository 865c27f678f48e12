using System.Runtime.CompilerServices;
using System.Runtime;
using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform;

namespace HekiGuest.Kernel.SelfTests;

// The sealed section's layout and every sealed routine, exercised before sealing: each write
// must be visible when read back, and the original value restored.
public sealed unsafe class SealedTests : ITestGroup
{
    public string Name => "sealed";
    public bool Hidden => false;

    private const uint TscAuxMsr = 0xC0000103;

    public void Run(TestContext t)
    {
        ulong start = LinkerSymbols.SealedStart(), end = LinkerSymbols.SealedEnd();
        t.Check(start < end && (start & 0xFFF) == 0 && (end & 0xFFF) == 0, "sealed section is page-aligned", "bounds not page aligned");
        t.Check(start >= LinkerSymbols.TextEnd() && end <= LinkerSymbols.RodataStart(), "sealed section is on its own pages", "shares pages with text or rodata");
        ulong* routines = Native.SealedRoutineTable();
        bool inside = true;
        int n = 0;
        for (; routines[n] != 0; n++) if (routines[n] < start || routines[n] >= end) inside = false;
        t.Check(inside && n == 10, "every sealed routine lies inside the section", "a routine is outside or missing");

        // CR0.MP is harmless to toggle (WP may be pinned by the host, TS would trap SSE).
        ulong cr0 = Native.ReadCr0();
        SealedOps.WriteCr0(cr0 ^ ControlRegisters.Cr0Mp);
        ulong cr0Toggled = Native.ReadCr0();
        SealedOps.WriteCr0(cr0);
        t.Check(cr0Toggled == (cr0 ^ ControlRegisters.Cr0Mp) && Native.ReadCr0() == cr0, "write CR0 (MP toggled and back)", "CR0 read-back differs");

        ulong cr4 = Native.ReadCr4();
        SealedOps.WriteCr4(cr4 ^ ControlRegisters.Cr4Tsd);
        ulong cr4Toggled = Native.ReadCr4();
        SealedOps.WriteCr4(cr4);
        t.Check(cr4Toggled == (cr4 ^ ControlRegisters.Cr4Tsd) && Native.ReadCr4() == cr4, "write CR4 (TSD toggled and back)", "CR4 read-back differs");

        ulong cr3 = Native.ReadCr3();
        SealedOps.WriteCr3(cr3);
        t.EqualHex(Native.ReadCr3(), cr3, "write CR3 (reload)");

        ulong efer = Native.ReadMsr(ControlRegisters.EferMsr);
        SealedOps.WriteMsr(ControlRegisters.EferMsr, efer);
        t.EqualHex(Native.ReadMsr(ControlRegisters.EferMsr), efer, "WRMSR EFER (same value)");
        if (CpuFeatures.Rdtscp)
        {
            ulong aux = Native.ReadMsr(TscAuxMsr);
            SealedOps.WriteMsr(TscAuxMsr, 0x1234);
            ulong seen = Native.ReadMsr(TscAuxMsr);
            SealedOps.WriteMsr(TscAuxMsr, aux);
            t.EqualHex(seen, 0x1234, "WRMSR TSC_AUX (value visible)");
        }
        else t.Skip("WRMSR TSC_AUX (value visible)", "CPU has no RDTSCP");

        if (CpuFeatures.Xsave)
        {
            ulong cr4Now = Native.ReadCr4();
            SealedOps.WriteCr4(cr4Now | ControlRegisters.Cr4Osxsave);
            SealedOps.SetXcr(0, 3);
            ulong xcr0 = CpuAccess.ReadXcr(0);
            t.EqualHex(xcr0, 3, "XSETBV XCR0 (x87|SSE)");
        }
        else t.Skip("XSETBV XCR0 (x87|SSE)", "CPU has no XSAVE");

        DescriptorTablePointer gdtr, idtr, after;
        Native.StoreGdt(&gdtr);
        SealedOps.LoadGdt(&gdtr);
        Native.StoreGdt(&after);
        t.Check(after.Base == gdtr.Base && after.Limit == gdtr.Limit, "LGDT (reload)", "GDTR differs");
        Native.StoreIdt(&idtr);
        SealedOps.LoadIdt(&idtr);
        Native.StoreIdt(&after);
        t.Check(after.Base == idtr.Base && after.Limit == idtr.Limit, "LIDT (reload)", "IDTR differs");
        Gdt.MarkTssAvailable();
        SealedOps.LoadTr(Gdt.TssSelector);
        t.EqualHex(Gdt.StoreTr(), Gdt.TssSelector, "LTR (reload)");
        SealedOps.LoadLdt(0);
        t.EqualHex(Gdt.StoreLdtr(), 0, "LLDT (null selector)");
    }
}
