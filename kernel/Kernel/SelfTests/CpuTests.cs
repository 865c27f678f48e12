using System.Runtime.CompilerServices;
using System.Runtime;
using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;
using HekiGuest.Platform;

namespace HekiGuest.Kernel.SelfTests;

// Descriptor tables, exception delivery through the fault probe, and the fault report pieces.
public sealed unsafe class CpuTests : ITestGroup
{
    public string Name => "cpu";
    public bool Hidden => false;

    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_int3")] private static extern void Int3();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_ud2")] private static extern void Ud2();

    private static int s_zero;
    private static ulong s_sink;

    public void Run(TestContext t)
    {
        DescriptorTablePointer gdtr, idtr;
        Native.StoreGdt(&gdtr);
        Native.StoreIdt(&idtr);
        t.Check(gdtr.Base == Gdt.GdtBase && gdtr.Limit == 63, "GDT loaded", "GDTR does not point at the kernel GDT");
        t.EqualHex(Gdt.StoreTr(), Gdt.TssSelector, "TSS loaded (TR)");
        ulong tss = Gdt.TssBase;
        t.Check(*(ulong*)(tss + 36) == Gdt.IstStackTop(1) && *(ulong*)(tss + 44) == Gdt.IstStackTop(2) && *(ulong*)(tss + 52) == Gdt.IstStackTop(3),
            "IST stacks for #DF, NMI, #MC", "TSS IST pointers wrong");
        t.Check(idtr.Base == Idt.Base && idtr.Limit == 4095, "IDT loaded", "IDTR does not point at the kernel IDT");
        ulong* stubs = LinkerSymbols.IsrTable();
        bool all = true;
        for (int v = 0; v < 32; v++) if (!Idt.GatePresent(v) || Idt.GateHandler(v) != stubs[v]) all = false;
        t.Check(all, "all 32 exception vectors have gates", "a gate is missing or points elsewhere");
        t.Check(Idt.GateIst(8) == 1 && Idt.GateIst(2) == 2 && Idt.GateIst(18) == 3 && Idt.GateIst(14) == 0,
            "#DF, NMI and #MC use IST stacks", "IST assignment wrong");

        ExpectVector(t, &DoInt3, 3, "int3 delivers #BP");
        ExpectVector(t, &DoUd2, 6, "ud2 delivers #UD");
        ExpectVector(t, &DoDivide, 0, "division by zero delivers #DE");
        FaultRecord gp = FaultProbe.Run(&DoNonCanonical);
        t.Check(gp.Faulted && gp.Vector == 13 && gp.ErrorCode == 0, "non-canonical access delivers #GP(0)", "no #GP(0)");
        FaultRecord none = FaultProbe.Run(&DoNothing);
        t.Check(!none.Faulted, "a probe without a fault returns normally", "phantom fault");

        var buf = new BufferSink(128);
        var o = new TextOut(buf);
        ExceptionDispatch.WritePageFaultBits(o, 0x11);
        t.Check(buf.Equals("present read supervisor instruction-fetch"), "#PF error code decoding", "decoded text differs");
        buf.Clear();
        ExceptionDispatch.WritePageFaultBits(o, 0x7);
        t.Check(buf.Equals("present write user"), "#PF error code decoding (user write)", "decoded text differs");

        t.Check(Symbols.Count > 100, "kernel symbol table embedded", "symbol table empty");
        ulong target = (ulong)(delegate*<int>)&SymbolProbeTarget;
        bool found = Symbols.Lookup(target + 3, out byte* name, out int len, out ulong off);
        t.Check(found && off == 3 && EndsWith(name, len, "SymbolProbeTarget"), "nearest symbol for a code address", "lookup failed");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SymbolProbeTarget() => s_zero + 12345;

    private static bool EndsWith(byte* name, int len, string suffix)
    {
        if (len < suffix.Length) return false;
        for (int i = 0; i < suffix.Length; i++) if (name[len - suffix.Length + i] != suffix[i]) return false;
        return true;
    }

    private static void ExpectVector(TestContext t, delegate*<void> action, ulong vector, string name)
    {
        FaultRecord r = FaultProbe.Run(action);
        if (r.Faulted && r.Vector == vector) t.Pass(name);
        else if (!r.Faulted) t.Fail(name, "no exception");
        else { t.Out.Write("FAIL: cpu: ").Write(name).Write(" (got vector ").UDec(r.Vector).Line(")"); t.Total++; t.Failed++; }
    }

    private static void DoInt3() => Int3();
    private static void DoUd2() => Ud2();
    private static void DoDivide() => s_sink = (ulong)(100 / s_zero);
    private static void DoNonCanonical() => s_sink = *(ulong*)0x8000_0000_0000_0000UL;
    private static void DoNothing() => s_sink++;
}
