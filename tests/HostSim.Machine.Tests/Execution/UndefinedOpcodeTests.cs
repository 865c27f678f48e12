using HekiGuest.HostSim.Machine.Execution;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// User code cannot stop the machine with an instruction: an undefined opcode, UD2 and a valid
/// instruction the core lacks all give the guest #UD through its IDT (Intel SDM vol. 3, 6.15,
/// interrupt 6), and the VM keeps running. Stopping there is a debugging option.
/// </summary>
public sealed class UndefinedOpcodeTests
{
    /// <summary>CPL 3 code runs 0xD6 (SALC, undefined in 64-bit mode), FSIN (x87 arithmetic,
    /// valid but not implemented), UD2 and then INT3. The #UD handler counts in RBX and skips the
    /// instruction (its length in RCX); the INT3 handler (DPL 3 gate) exits with the count.</summary>
    private static LongModeGuest UserGuestHittingThreeUds()
    {
        var g = new LongModeGuest();
        g.Gate(6);
        g.Gate(3, dpl: 3);
        g.Emit(Handler(6), a => { a.inc(rbx); a.add(__qword_ptr[rsp], rcx); a.iretq(); });
        g.Emit(Handler(3), a => { a.mov(al, bl); a.@out(0xF4, al); a.hlt(); });
        g.Emit(Code, a =>
        {
            a.mov(ecx, 1);
            a.db(0xD6);
            a.mov(ecx, 2);
            a.fsin();
            a.mov(ecx, 2);
            a.ud2();
            a.int3();
        });
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x6_0000;
        return g;
    }

    [Fact]
    public void Cpl3_undefined_and_unimplemented_opcodes_deliver_ud_to_the_guest_and_the_vm_keeps_running()
    {
        using var g = UserGuestHittingThreeUds();
        var seen = new List<string>();
        g.Vm.UnimplementedInstruction += d => seen.Add(d.Mnemonic);
        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(10), 10_000));
        Assert.True(outcome.Kind == MachineStopKind.GuestExit, outcome.Summary);
        Assert.Equal((3 << 1) | 1, outcome.ExitCode);                  // three #UDs handled by the guest
        Assert.Equal(["fsin"], seen);                                 // only the valid-but-missing one is a diagnostic
        Assert.Equal(1, g.Cpu.DiagnosticsRaised);
    }

    [Fact]
    public void Stop_on_unimplemented_stops_at_the_valid_instruction_the_core_lacks_not_at_an_undefined_opcode()
    {
        using var g = UserGuestHittingThreeUds();
        g.Vm.StopOnUnimplemented = true;
        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(10), 10_000));
        Assert.True(outcome.Kind == MachineStopKind.Unimplemented, outcome.Summary);
        Assert.Equal(MachineOutcome.ExitUnimplemented, outcome.ExitCode);
        Assert.Contains("fsin", outcome.Summary);
        Assert.Equal(1UL, g.Cpu.Gpr[Processor.RBX]);                   // the 0xD6 #UD was delivered first
        Assert.Equal(3, g.Cpu.Cpl);                                    // stopped in user mode, at FSIN
        Assert.Equal(Code + 5 + 1 + 5, g.Cpu.Rip);
    }
}
