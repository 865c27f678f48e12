using HekiGuest.HostSim.Cpu;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// #DB through the IDT (SDM vol. 3 6.15 and ch. 18): traps (single-step, INT1) return to the
/// next instruction and, unlike INT n, skip the gate DPL check; an instruction-breakpoint fault
/// returns to the instruction, and a handler that sets RF in the image resumes past it once.
/// </summary>
public sealed class DebugDeliveryTests
{
    private const ulong Tf = 1UL << 8, Rf = 1UL << 16;

    [Fact]
    public void Int1_at_cpl_3_reaches_a_dpl_0_gate_while_int_1_gps()
    {
        using var g = new LongModeGuest();
        g.Gate(1);                                                   // DPL 0
        g.Gate(13);
        g.Emit(Code, a => { a.db(0xF1); a.nop(); });               // int1
        g.EnterUserMode();
        g.Cpu.Rip = Code;
        var pending = g.RunToException();
        Assert.True(pending.IsTrap);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Handler(1), g.Cpu.Rip);
        Assert.Equal(Code + 1, g.Frame(1)[0]);

        using var h = new LongModeGuest();
        h.Gate(1);
        h.Gate(13);
        h.Emit(Code, a => { a.@int(1); a.nop(); });
        h.EnterUserMode();
        h.Cpu.Rip = Code;
        Assert.True(h.Vm.Exceptions.Deliver(h.RunToException()));
        Assert.Equal(Handler(13), h.Cpu.Rip);                      // INT n checks the gate DPL
    }

    [Fact]
    public void A_single_step_trap_pushes_the_next_rip_with_tf_and_without_rf_and_clears_tf()
    {
        using var g = new LongModeGuest();
        g.Gate(1);
        g.Emit(Code, a => { a.nop(); a.nop(); });
        g.EnterUserMode();
        g.Cpu.Rip = Code;
        g.Cpu.Rflags |= Tf;
        var pending = g.RunToException();
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        ulong[] frame = g.Frame(5);
        Assert.Equal(Code + 1, frame[0]);
        Assert.Equal(0x302UL, frame[2]);                             // IF | TF, no RF
        Assert.Equal(0UL, g.Cpu.Rflags & Tf);
        Assert.Equal(Processor.Dr6Bs | Processor.Dr6Reserved, g.Cpu.Dr[6]);
    }

    [Fact]
    public void A_handler_that_sets_rf_resumes_past_an_instruction_breakpoint_once()
    {
        using var g = new LongModeGuest();
        g.Gate(1);
        g.Emit(Handler(1), a => { a.bts(__qword_ptr[rsp + 16], 16); a.iretq(); });
        g.Emit(Code, a => { a.nop(); a.add(eax, 7); a.hlt(); });
        g.Cpu.Rip = Code;
        g.Cpu.SetDebugRegister(0, Code + 1);
        g.Cpu.SetDebugRegister(7, 0x401);                           // L0, execute
        var pending = g.RunToException();
        Assert.False(pending.IsTrap);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Code + 1, g.Frame(1)[0]);                       // a fault: the instruction's RIP
        Assert.Equal(0UL, g.Frame(3)[2] & Rf);                       // the debugger sets RF, not the CPU
        Assert.Equal(StopReason.Halted, g.Cpu.Run(100));
        Assert.Equal(7UL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(0UL, g.Cpu.Rflags & Rf);
    }
}
