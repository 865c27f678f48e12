using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// Hand-written assembly routines (arch/x86_64/*.s). RuntimeImport gives a plain `call sym`.
// Reads and port I/O live in .text; every write of protection state is in the sealed section
// and reachable only through the Sealed* members below; callers use SealedOps, which routes them
// to the VTL1 monitor once the section was handed over.
public static unsafe class Native
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_outb")] public static extern void OutB(ushort port, byte value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_inb")] public static extern byte InB(ushort port);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_outl")] public static extern void OutL(ushort port, uint value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_inl")] public static extern uint InL(ushort port);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_cr0")] public static extern ulong ReadCr0();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_cr2")] public static extern ulong ReadCr2();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_cr3")] public static extern ulong ReadCr3();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_cr4")] public static extern ulong ReadCr4();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_rdmsr")] public static extern ulong ReadMsr(uint msr);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_cpuid")] public static extern void CpuId(uint leaf, uint subleaf, uint* regs);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_rdtsc")] public static extern ulong ReadTsc();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_hlt")] public static extern void Halt();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_cli")] public static extern void DisableInterrupts();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_pause")] public static extern void Pause();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_rflags")] public static extern ulong ReadRflags();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sgdt")] public static extern void StoreGdt(DescriptorTablePointer* p);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sidt")] public static extern void StoreIdt(DescriptorTablePointer* p);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_rsp")] public static extern ulong ReadRsp();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_read_rbp")] public static extern ulong ReadRbp();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_invlpg")] public static extern void InvalidatePage(ulong address);

    // ---- sealed (arch/x86_64/sealed.s) ----
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_write_cr0")] public static extern void SealedWriteCr0(ulong value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_write_cr3")] public static extern void SealedWriteCr3(ulong value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_write_cr4")] public static extern void SealedWriteCr4(ulong value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_wrmsr")] public static extern void SealedWriteMsr(uint msr, ulong value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_lidt")] public static extern void SealedLoadIdt(DescriptorTablePointer* p);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_lgdt")] public static extern void SealedLoadGdt(DescriptorTablePointer* p);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_ltr")] public static extern void SealedLoadTr(ushort selector);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_lldt")] public static extern void SealedLoadLdt(ushort selector);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sealed_xsetbv")] public static extern void SealedXsetbv(uint xcr, ulong value);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_sealed_routines")] public static extern ulong* SealedRoutineTable();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_sealed_digest")] public static extern byte* SealedDigest();
}

[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 1)]
public struct DescriptorTablePointer
{
    public ushort Limit;
    public ulong Base;
}
