using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>
/// The TLB flush the VTL1 monitor relies on after it edits VTL0's page tables (docs/vtl.md
/// section 15, map page): VTL1 rewrites an entry VTL0 has a cached translation for, reloads
/// VTL0's CR3 with its own value (SetVpRegisters) and returns; VTL0's next access goes through
/// the new entry. The first half shows the cached translation exists: an entry rewritten behind
/// VTL0's back, with no flush, still translates the old way. (hostsim also drops VTL0's
/// translations on every VTL switch, docs/vtl.md section 7; the CR3 reload is the flush the
/// architecture guarantees for non-global entries, so the monitor does not depend on that.)
/// </summary>
public sealed class Vtl0TlbFlushTests
{
    private const ulong Va = 0x3F8000;                  // in VTL0's second 2 MiB page
    private const ulong OldTarget = 0x3F8000, NewTarget = 0x1F8000;
    private const ulong SecondPde = VsmGuestMachine.Pd + 8;

    [Fact]
    public void A_cr3_reload_by_vtl1_drops_vtl0s_stale_translation_of_a_rewritten_entry()
    {
        using var g = new VsmGuestMachine();
        g.WriteU64(OldTarget, 0x01D);
        g.WriteU64(NewTarget, 0x2E3);
        const byte Cached = 0x3C;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rbx, Va);
            a.mov(r12, __qword_ptr[rbx]);       // the translation is cached
            a.mov(al, Cached);
            a.@out(0xF4, al);                   // the test rewrites the entry here
            a.mov(r13, __qword_ptr[rbx]);       // still the cached translation
            Vtl1Session.VtlCall(a);             // VTL1 reloads VTL0's CR3
            a.mov(r14, __qword_ptr[rbx]);       // the new entry
        });
        var first = s.Answer(_ => { });
        Assert.Equal(MachineStopKind.GuestExit, first.Kind);
        Assert.Equal(Cached, g.Vm.DebugExit.Value);
        Assert.Equal(0, g.Host.CurrentVtl);
        g.WriteU64(SecondPde, 0x0000_0000 | 0x87 | 0x20);   // VA 0x200000-0x3FFFFF -> GPA 0-0x1FFFFF

        s.RunUntilVtl(1);
        Assert.Equal(0x01DUL, g.Cpu.Gpr[12]);
        Assert.Equal(0x01DUL, g.Cpu.Gpr[13]);

        const ulong setAt = VsmGuestMachine.InputPage;
        s.WriteSet(setAt, HvInputVtl.UseTargetVtl | 0, (HvRegister.Cr3, (UInt128)VsmGuestMachine.Pml4));
        var end = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 1), setAt, 0, 0));
        Assert.Equal(1UL << 32, s.Result(0));
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(Vtl1Session.Vtl0Done, g.Vm.DebugExit.Value);
        Assert.Equal(0x2E3UL, g.Cpu.Gpr[14]);
    }
}
