using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// The kernel's GDT with a 64-bit TSS whose IST stacks carry the exceptions that must work when
// the current stack is gone: double fault (IST1), NMI (IST2), machine check (IST3). Each IST
// stack sits above an unmapped guard page (see PageTables).
public static unsafe class Gdt
{
    public const ushort KernelCode = 0x08, KernelData = 0x10, UserCode32 = 0x18, UserData = 0x20,
        UserCode = 0x28, TssSelector = 0x30;
    public const int IstDoubleFault = 1, IstNmi = 2, IstMachineCheck = 3;
    public const int IstStackSize = 16384;

    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_reload_segments")] private static extern void ReloadSegments(ushort code, ushort data);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_str")] public static extern ushort StoreTr();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sldt")] public static extern ushort StoreLdtr();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_ist_stacks")] private static extern byte* IstStacks();

    private static ulong* s_gdt;
    private static byte* s_tss;

    public static ulong GdtBase => (ulong)s_gdt;
    public static ulong TssBase => (ulong)s_tss;

    // Guard page i (0..2) is the page below IST stack i+1.
    public static ulong IstGuardPage(int ist) => (ulong)IstStacks() + (ulong)(ist - 1) * (4096 + IstStackSize);
    public static ulong IstStackTop(int ist) => IstGuardPage(ist) + 4096 + IstStackSize;

    public static void Install()
    {
        s_gdt = (ulong*)Internal.Runtime.Heap.Allocate(8 * 8);
        s_tss = Internal.Runtime.Heap.Allocate(104);
        s_gdt[0] = 0;
        s_gdt[1] = 0x00AF9A000000FFFF;   // kernel code, 64-bit, DPL0
        s_gdt[2] = 0x00CF92000000FFFF;   // kernel data
        s_gdt[3] = 0x00CFFA000000FFFF;   // user code, 32-bit, DPL3
        s_gdt[4] = 0x00CFF2000000FFFF;   // user data, DPL3
        s_gdt[5] = 0x00AFFA000000FFFF;   // user code, 64-bit, DPL3
        ulong tss = (ulong)s_tss, limit = 103;
        s_gdt[6] = (limit & 0xFFFF) | ((tss & 0xFFFFFF) << 16) | (0x89UL << 40) | (((limit >> 16) & 0xF) << 48) | (((tss >> 24) & 0xFF) << 56);
        s_gdt[7] = tss >> 32;
        // TSS: RSP0 at +4, IST1..7 at +36, I/O map base at +102 (= size: no I/O bitmap).
        *(ulong*)(s_tss + 4) = LinkerSymbols.BootStackTop();
        for (int i = 1; i <= 3; i++) *(ulong*)(s_tss + 36 + (i - 1) * 8) = IstStackTop(i);
        *(ushort*)(s_tss + 102) = 104;

        DescriptorTablePointer p;
        p.Limit = 8 * 8 - 1;
        p.Base = (ulong)s_gdt;
        SealedOps.LoadGdt(&p);
        ReloadSegments(KernelCode, KernelData);
        SealedOps.LoadTr(TssSelector);
    }

    // LTR marks the descriptor busy; reloading TR (a sealed-routine self-test) needs it available.
    public static void MarkTssAvailable() => s_gdt[6] &= ~(1UL << 41);
}
