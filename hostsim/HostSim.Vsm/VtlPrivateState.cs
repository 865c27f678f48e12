using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The registers one VTL of one virtual processor keeps to itself (docs/vtl.md section 7): RIP,
/// RSP, RFLAGS, CR0, CR3, CR4, EFER, the six segment registers, TR, LDTR, GDTR, IDTR, the SYSCALL
/// MSRs, KERNEL_GS_BASE, PAT, DR7 and TSC_AUX. Everything else (the other GPRs, CR2, XMM, XCR0,
/// DR0-DR5) is shared and stays in the CPU across a VTL switch.
/// </summary>
public sealed class VtlPrivateState
{
    private const ulong PowerOnDr7 = 0x400;

    public ulong Rip, Rsp, Rflags;
    public ulong Cr0, Cr3, Cr4, Efer, Pat;
    public readonly SegmentRegister[] Segments = new SegmentRegister[6];
    public SegmentRegister Tr, Ldtr;
    public DescriptorTableRegister Gdtr, Idtr;
    public ulong Star, Lstar, Cstar, Sfmask, KernelGsBase, TscAux;
    public ulong Dr7 = PowerOnDr7;

    /// <summary>Copies the CPU's private registers into this state.</summary>
    public void Capture(Cpu.Cpu cpu)
    {
        Rip = cpu.Rip;
        Rsp = cpu.ReadGpr(Cpu.Cpu.RSP);
        Rflags = cpu.Rflags;
        Cr0 = cpu.Cr0;
        Cr3 = cpu.Cr3;
        Cr4 = cpu.Cr4;
        Efer = cpu.Efer;
        Pat = cpu.Pat;
        cpu.Segments.CopyTo(Segments, 0);
        Tr = cpu.Tr;
        Ldtr = cpu.Ldtr;
        Gdtr = cpu.Gdtr;
        Idtr = cpu.Idtr;
        Star = cpu.Star;
        Lstar = cpu.Lstar;
        Cstar = cpu.Cstar;
        Sfmask = cpu.Sfmask;
        KernelGsBase = cpu.KernelGsBase;
        TscAux = cpu.TscAux;
        Dr7 = cpu.Dr[7];
    }

    /// <summary>Loads this state into the CPU, for <paramref name="vtl"/>: the CPU's translations
    /// and decoded-code links switch to that VTL's own translation context (each VTL has its own
    /// paging and TLB, docs/vtl.md section 7), kept from its last run unless something flushed
    /// the TLB since (a protection change, a register set by a higher VTL, a reset).</summary>
    public void Load(Cpu.Cpu cpu, int vtl)
    {
        cpu.Cr0 = Cr0;
        cpu.Cr3 = Cr3;
        cpu.Cr4 = Cr4;
        cpu.Efer = Efer;
        cpu.Pat = Pat;
        Segments.CopyTo(cpu.Segments, 0);
        cpu.Tr = Tr;
        cpu.Ldtr = Ldtr;
        cpu.Gdtr = Gdtr;
        cpu.Idtr = Idtr;
        cpu.Star = Star;
        cpu.Lstar = Lstar;
        cpu.Cstar = Cstar;
        cpu.Sfmask = Sfmask;
        cpu.KernelGsBase = KernelGsBase;
        cpu.TscAux = TscAux;
        cpu.Dr[7] = Dr7;
        cpu.Rflags = Rflags;
        cpu.WriteGpr(Cpu.Cpu.RSP, Rsp);
        cpu.Rip = Rip;
        cpu.UpdateMode();
        cpu.SwitchTranslationContext(vtl);
    }
}
