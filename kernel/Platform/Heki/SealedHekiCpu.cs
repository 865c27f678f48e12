using System.Runtime.CompilerServices;
using System.Runtime;
using HekiGuest.Platform.Arch;
using HekiGuest.Sdk;

namespace HekiGuest.Platform.Heki;

// The platform's default IHekiCpu: CPUID, MSR reads, MSR writes through the sealed WRMSR routine,
// and VMCALL, each run under a fault probe so a host without the interface yields "failed"
// instead of a fault (the platform IDT must be installed: Idt.Install). The platform's boot
// stub identity-maps the image, so virtual = physical; a guest with other page tables
// supplies its own TryVirtualToPhysical by wrapping this class's members.
public sealed unsafe class SealedHekiCpu : IHekiCpu
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_vmcall")]
    private static extern long VmCall(ulong nr, ulong a0, ulong a1, ulong a2, ulong a3);

    private static uint s_msr;
    private static ulong s_value, s_nr, s_a0, s_a1, s_a2, s_a3;
    private static long s_result;

    public void Cpuid(uint leaf, uint subleaf, uint* regs) => Native.CpuId(leaf, subleaf, regs);

    public bool TryReadMsr(uint msr, out ulong value)
    {
        s_msr = msr;
        bool ok = !FaultProbe.Run(&DoRead).Faulted;
        value = ok ? s_value : 0;
        return ok;
    }

    public bool TryWriteMsr(uint msr, ulong value)
    {
        s_msr = msr;
        s_value = value;
        return !FaultProbe.Run(&DoWrite).Faulted;
    }

    public bool TryHypercall(ulong number, ulong a0, ulong a1, ulong a2, ulong a3, out long result)
    {
        s_nr = number; s_a0 = a0; s_a1 = a1; s_a2 = a2; s_a3 = a3;
        bool ok = !FaultProbe.Run(&DoCall).Faulted;
        result = ok ? s_result : 0;
        return ok;
    }

    public ulong ReadControlRegister(int cr) => cr == 0 ? Native.ReadCr0() : cr == 4 ? Native.ReadCr4() : 0;

    public bool TryVirtualToPhysical(ulong virtualAddress, out ulong physicalAddress)
    {
        physicalAddress = virtualAddress;
        return true;
    }

    private static void DoRead() => s_value = Native.ReadMsr(s_msr);
    private static void DoWrite() => SealedOps.WriteMsr(s_msr, s_value);
    private static void DoCall() => s_result = VmCall(s_nr, s_a0, s_a1, s_a2, s_a3);
}
