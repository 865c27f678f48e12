using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// IDT delivery in long mode (Intel SDM vol. 3, 6.14): the core raises a real fault, then
/// <see cref="ExceptionDelivery"/> delivers it and the test reads the pushed frame word by word.
/// </summary>
public sealed class ExceptionDeliveryTests
{
    private const ulong Unmapped = 0x50_0000;     // beyond the 4 MiB identity map: PDE not present
    private const ulong Rf = 1UL << 16;           // set in the RFLAGS image of fault-class exceptions

    [Fact]
    public void Ud2_through_an_interrupt_gate_pushes_the_frame_on_a_16_byte_aligned_stack_and_clears_if()
    {
        using var g = new LongModeGuest();
        g.Gate(6);
        g.Emit(Code, a => { a.nop(); a.ud2(); });
        g.Cpu.Gpr[Processor.RSP] = StackTop + 8;                 // misaligned on purpose
        g.Cpu.Rflags = 0x202 | (1UL << 8) | (1UL << 14);            // IF, TF, NT
        g.Cpu.Rip = Code + 1;                                       // start at the UD2: TF would trap after the NOP
        var pending = g.RunToException();
        Assert.Equal(GuestFault.InvalidOpcode, pending.Fault.Vector);
        Assert.False(pending.Fault.HasErrorCode);

        Assert.True(g.Vm.Exceptions.Deliver(pending));

        Assert.Equal(Handler(6), g.Cpu.Rip);
        Assert.Equal(StackTop - 40, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal([Code + 1, KernelCs, 0x202UL | (1UL << 8) | (1UL << 14) | Rf, StackTop + 8, KernelDs], g.Frame(5));
        Assert.Equal(KernelCs, g.Cpu.Segments[Processor.CS].Selector);
        Assert.Equal(0UL, g.Cpu.Rflags & ((1UL << 9) | (1UL << 8) | (1UL << 14)));   // IF, TF, NT cleared
        Assert.Equal(0, g.Cpu.Cpl);
    }

    [Fact]
    public void Trap_gate_keeps_if()
    {
        using var g = new LongModeGuest();
        g.Gate(6, TrapGate);
        g.Emit(Code, a => a.ud2());
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(6), g.Cpu.Rip);
        Assert.Equal(0x200UL, g.Cpu.Rflags & 0x200);
    }

    [Theory]
    [InlineData(false, 0u)]
    [InlineData(true, 2u)]
    public void Page_fault_pushes_its_error_code_and_sets_cr2(bool write, uint error)
    {
        using var g = new LongModeGuest();
        g.Gate(14);
        g.Emit(Code, a =>
        {
            a.mov(rbx, Unmapped + 0x18);
            if (write) a.mov(__qword_ptr[rbx], rax); else a.mov(rax, __qword_ptr[rbx]);
        });
        var pending = g.RunToException();
        ulong faultingRip = Code + 10;                            // after the 10-byte mov rbx, imm64
        Assert.Equal(GuestFault.PageFault, pending.Fault.Vector);

        Assert.True(g.Vm.Exceptions.Deliver(pending));

        Assert.Equal(Unmapped + 0x18, g.Cpu.Cr2);
        Assert.Equal(Handler(14), g.Cpu.Rip);
        Assert.Equal(StackTop - 48, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal([error, faultingRip, KernelCs, 0x202UL | Rf, StackTop, KernelDs], g.Frame(6));
    }

    [Fact]
    public void User_write_to_a_read_only_page_reports_p_w_u()
    {
        using var g = new LongModeGuest();
        g.WriteU64(Pd + 8, (1UL << 21) | 0x85);                   // 2-4 MiB: present, user, read-only
        g.Cpu.FlushTlb();
        g.Gate(14);
        g.Emit(Code, a => { a.mov(rbx, 0x20_0100UL); a.mov(__qword_ptr[rbx], rax); });
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x6_0000;
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal([7UL, Code + 10, UserCs, 0x202UL | Rf, 0x6_0000UL, UserDs], g.Frame(6));
        Assert.Equal(0x20_0100UL, g.Cpu.Cr2);
    }

    [Fact]
    public void Int3_is_a_trap_the_pushed_rip_is_the_next_instruction()
    {
        using var g = new LongModeGuest();
        g.Gate(3, TrapGate, dpl: 3);
        g.Emit(Code, a => { a.int3(); a.nop(); });
        var pending = g.RunToException();
        Assert.True(pending.IsSoftwareInterrupt);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Handler(3), g.Cpu.Rip);
        Assert.Equal([Code + 1, KernelCs, 0x202UL, StackTop, KernelDs], g.Frame(5));   // a trap: no RF
    }

    [Fact]
    public void Ist_gate_switches_to_the_ist1_stack_even_without_a_privilege_change()
    {
        using var g = new LongModeGuest();
        g.Gate(6, ist: 1);
        g.Emit(Code, a => a.ud2());
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Ist1 - 40, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal([Code, KernelCs, 0x202UL | Rf, StackTop, KernelDs], g.Frame(5));
    }

    [Fact]
    public void Fault_at_cpl3_switches_to_rsp0_loads_a_null_ss_and_runs_the_handler_at_cpl0()
    {
        using var g = new LongModeGuest();
        g.Gate(6);
        g.Emit(Code, a => a.ud2());
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x6_0008;
        Assert.Equal(3, g.Cpu.Cpl);
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(0, g.Cpu.Cpl);
        Assert.Equal(Rsp0 - 40, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal([Code, UserCs, 0x202UL | Rf, 0x6_0008UL, UserDs], g.Frame(5));
        Assert.Equal(0, g.Cpu.Segments[Processor.SS].Selector & ~3);
        Assert.Equal(KernelCs, g.Cpu.Segments[Processor.CS].Selector);
    }

    [Fact]
    public void Int_n_from_cpl3_through_a_dpl3_gate_is_delivered_with_the_next_rip()
    {
        using var g = new LongModeGuest();
        g.Gate(0x80, dpl: 3);
        g.Emit(Code, a => { a.@int(0x80); a.nop(); });
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x6_0000;
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(0x80), g.Cpu.Rip);
        Assert.Equal([Code + 2, UserCs, 0x202UL, 0x6_0000UL, UserDs], g.Frame(5));
    }

    [Fact]
    public void Page_fault_through_a_not_present_gate_becomes_a_double_fault_with_error_code_zero()
    {
        using var g = new LongModeGuest();
        g.Gate(14, present: false);
        g.Gate(8, ist: 1);
        g.Emit(Code, a => { a.mov(rbx, Unmapped); a.mov(rax, __qword_ptr[rbx]); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(8), g.Cpu.Rip);
        Assert.Equal(Ist1 - 48, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal([0UL, Code + 10, KernelCs, 0x202UL, StackTop, KernelDs], g.Frame(6));
        Assert.Equal(Unmapped, g.Cpu.Cr2);
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(14, 0, Unmapped, Code + 10), chain[0]);
        Assert.Equal(8, chain[^1].Vector);
    }

    [Fact]
    public void Fault_while_delivering_a_double_fault_is_a_triple_fault_with_the_chain()
    {
        using var g = new LongModeGuest();
        g.Gate(14, present: false);
        g.Gate(8, present: false);
        g.Emit(Code, a => { a.mov(rbx, Unmapped); a.mov(rax, __qword_ptr[rbx]); });
        Assert.False(g.Vm.Exceptions.Deliver(g.RunToException()));
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(14, 0, Unmapped, Code + 10), chain[0]);
        Assert.Contains(chain, e => e.Vector == 8);
        Assert.True(chain.Count >= 3, string.Join(", ", chain));
    }

    [Fact]
    public void Handler_stack_that_faults_becomes_a_double_fault_on_the_ist_stack()
    {
        using var g = new LongModeGuest();
        g.Gate(6);
        g.Gate(8, ist: 1);
        g.Emit(Code, a => a.ud2());
        g.Cpu.Gpr[Processor.RSP] = Unmapped + 0x100;              // pushing the #UD frame faults
        // #UD is benign, so strictly (table 6-5) the #PF is delivered on its own; with no #PF gate
        // that fault (#NP, contributory) after the #PF makes a #DF either way.
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(8), g.Cpu.Rip);
        Assert.Equal(Ist1 - 48, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal(0UL, g.Frame(1)[0]);
    }

    [Fact]
    public void Not_present_gate_for_a_benign_exception_delivers_np_with_idt_and_ext_bits()
    {
        using var g = new LongModeGuest();
        g.Gate(6, present: false);
        g.Gate(11);
        g.Gate(13);
        g.Gate(8);
        g.Emit(Code, a => a.ud2());
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(11), g.Cpu.Rip);
        Assert.Equal([6UL * 8 + 3, Code, KernelCs, 0x202UL | Rf, StackTop, KernelDs], g.Frame(6));
    }

    [Fact]
    public void Not_present_gate_for_a_page_fault_is_recorded_as_np_in_the_chain()
    {
        using var g = new LongModeGuest();
        g.Gate(14, present: false);
        g.Gate(8);
        g.Emit(Code, a => { a.mov(rbx, Unmapped); a.mov(rax, __qword_ptr[rbx]); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal((byte)11, chain[1].Vector);
        Assert.Equal(14u * 8 + 3, chain[1].ErrorCode);
    }

    [Fact]
    public void Int3_from_cpl3_through_a_dpl0_gate_is_a_general_protection_fault()
    {
        using var g = new LongModeGuest();
        g.Gate(3);                                                // DPL 0
        g.Gate(13);
        g.Gate(8);
        g.Emit(Code, a => { a.int3(); a.nop(); });
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x6_0000;
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        // the #GP is a fault on the INT3 instruction (RIP of the INT3): RF set, unlike INT3's own frame
        Assert.Equal([3UL * 8 + 2, Code, UserCs, 0x202UL | Rf, 0x6_0000UL, UserDs], g.Frame(6));
    }

    [Fact]
    public void Iretq_loading_rf_from_a_fault_frame_keeps_it_for_one_instruction_only()
    {
        using var g = new LongModeGuest();
        g.Gate(6);
        g.Emit(Handler(6), a => { a.add(__qword_ptr[rsp], 2); a.iretq(); });
        g.Emit(Code, a => { a.ud2(); a.nop(); a.nop(); a.hlt(); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(0UL, g.Cpu.Rflags & Rf);
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(2));  // add, iretq
        Assert.Equal(Code + 2, g.Cpu.Rip);
        Assert.Equal(Rf, g.Cpu.Rflags & Rf);
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(1));  // the first nop: RF cleared after it
        Assert.Equal(0UL, g.Cpu.Rflags & Rf);
        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));
        Assert.Equal(0UL, g.Cpu.Rflags & Rf);
    }
}
