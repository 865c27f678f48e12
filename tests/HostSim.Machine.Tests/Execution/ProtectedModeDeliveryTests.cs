using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.ProtectedModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// IDT delivery in 32-bit protected mode (Intel SDM vol. 3, 6.10-6.13 and INT n in vol. 2): the
/// core raises a real fault in 32-bit code, <see cref="ExceptionDelivery"/> delivers it through
/// an 8-byte gate, and the test reads the pushed frame. Fault-class exceptions push EFLAGS with
/// RF set; traps (INT3, INT n) and #DF (an abort) do not.
/// </summary>
public sealed class ProtectedModeDeliveryTests
{
    private const uint Rf = 1u << 16;
    private const ulong Unmapped = 0x50_0000;     // beyond the 4 MiB PSE page: PDE not present

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ud2_through_a_32_bit_interrupt_gate_pushes_eip_cs_eflags_with_rf_and_clears_if_tf_nt(bool paging)
    {
        using var g = new ProtectedModeGuest(paging);
        g.Gate(6);
        g.Emit(Code, a => { a.nop(); a.ud2(); });
        g.Cpu.Rflags = 0x202 | Flag.TF | Flag.NT;
        g.Cpu.Rip = Code + 1;                                   // start at the UD2: TF would trap after the NOP
        var pending = g.RunToException();
        Assert.Equal(GuestFault.InvalidOpcode, pending.Fault.Vector);

        Assert.True(g.Vm.Exceptions.Deliver(pending));

        Assert.Equal(Handler(6), g.Cpu.Rip);
        Assert.Equal((uint)StackTop - 12, g.Esp);
        Assert.Equal([(uint)Code + 1, KernelCs, 0x202u | (uint)Flag.TF | (uint)Flag.NT | Rf], g.Frame(3));
        Assert.Equal(0UL, g.Cpu.Rflags & (Flag.IF | Flag.TF | Flag.NT | Flag.RF));
        Assert.Equal(0, g.Cpu.Cpl);
        Assert.Equal(32, g.Cpu.Bitness);
    }

    [Fact]
    public void General_protection_through_a_trap_gate_pushes_its_error_code_and_keeps_if()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(13, TrapGate);
        g.Emit(Code, a => { a.mov(ax, 0x40); a.mov(ds, ax); });   // beyond the GDT limit
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        Assert.Equal([0x40u, (uint)Code + 4, KernelCs, 0x202u | Rf], g.Frame(4));
        Assert.Equal(Flag.IF, g.Cpu.Rflags & Flag.IF);
    }

    [Theory]
    [InlineData(false, 0u)]
    [InlineData(true, 2u)]
    public void Page_fault_under_32_bit_paging_pushes_its_error_code_and_sets_cr2(bool write, uint error)
    {
        using var g = new ProtectedModeGuest(paging: true);
        g.Gate(14);
        g.Emit(Code, a =>
        {
            a.mov(ebx, (uint)Unmapped + 0x18);
            if (write) a.mov(__dword_ptr[ebx], eax); else a.mov(eax, __dword_ptr[ebx]);
        });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Unmapped + 0x18, g.Cpu.Cr2);
        Assert.Equal(Handler(14), g.Cpu.Rip);
        Assert.Equal([error, (uint)Code + 5, KernelCs, 0x202u | Rf], g.Frame(4));
    }

    [Fact]
    public void Fault_at_cpl3_switches_to_ss0_esp0_from_the_tss_and_pushes_the_user_ss_esp()
    {
        using var g = new ProtectedModeGuest(paging: true);
        g.Gate(6);
        g.Emit(Code, a => a.ud2());
        g.EnterUserMode(0x6_0008);
        Assert.Equal(3, g.Cpu.Cpl);
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(0, g.Cpu.Cpl);
        Assert.Equal((uint)Esp0 - 20, g.Esp);
        Assert.Equal([(uint)Code, UserCs, 0x202u | Rf, 0x6_0008u, UserDs], g.Frame(5));
        Assert.Equal(KernelDs, g.Cpu.Segments[Processor.SS].Selector);
        Assert.Equal(KernelCs, g.Cpu.Segments[Processor.CS].Selector);
    }

    [Fact]
    public void Int_n_from_cpl3_through_a_dpl3_gate_pushes_the_next_eip_without_rf()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(0x80, dpl: 3);
        g.Emit(Code, a => { a.@int(0x80); a.nop(); });
        g.EnterUserMode(0x6_0000);
        var pending = g.RunToException();
        Assert.True(pending.IsSoftwareInterrupt);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Handler(0x80), g.Cpu.Rip);
        Assert.Equal([(uint)Code + 2, UserCs, 0x202u, 0x6_0000u, UserDs], g.Frame(5));
    }

    [Fact]
    public void Int3_at_cpl0_is_a_trap_without_rf()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(3, TrapGate);
        g.Emit(Code, a => { a.int3(); a.nop(); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(3), g.Cpu.Rip);
        Assert.Equal([(uint)Code + 1, KernelCs, 0x202u], g.Frame(3));
    }

    [Fact]
    public void Int_n_from_cpl3_through_a_dpl0_gate_is_a_general_protection_fault_with_the_idt_bit()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(0x40);                                             // DPL 0
        g.Gate(13);
        g.Gate(8);
        g.Emit(Code, a => { a.@int(0x40); a.nop(); });
        g.EnterUserMode(0x6_0000);
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        // a fault on the INT instruction: EIP of the INT, RF set, EXT clear (software source)
        Assert.Equal([0x40u * 8 + 2, (uint)Code, UserCs, 0x202u | Rf, 0x6_0000u, UserDs], g.Frame(6));
        Assert.Equal((uint)Esp0 - 24, g.Esp);
    }

    [Fact]
    public void Sixteen_bit_interrupt_gate_pushes_words_and_takes_a_16_bit_offset()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(13, InterruptGate16, target: 0x8000);
        g.Emit(Code, a => { a.mov(ax, 0x40); a.mov(ds, ax); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(0x8000UL, g.Cpu.Rip);
        Assert.Equal((uint)StackTop - 8, g.Esp);
        // error code, IP, CS, FLAGS (RF is bit 16: outside a 16-bit image)
        Assert.Equal([(ushort)0x40, (ushort)((Code + 4) & 0xFFFF), KernelCs, (ushort)0x202], g.Frame16(4));
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.IF);
    }

    [Fact]
    public void Sixteen_bit_trap_gate_from_cpl3_pushes_the_old_ss_sp_as_words()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(6, TrapGate16, target: 0x8000);
        g.Emit(Code, a => a.ud2());
        g.EnterUserMode(0x6_1234);
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal((uint)Esp0 - 10, g.Esp);
        Assert.Equal([(ushort)(Code & 0xFFFF), UserCs, (ushort)0x202, (ushort)0x1234, UserDs], g.Frame16(5));
        Assert.Equal(Flag.IF, g.Cpu.Rflags & Flag.IF);
    }

    [Fact]
    public void Not_present_gate_delivers_np_with_the_idt_and_ext_bits()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(6, present: false);
        g.Gate(11);
        g.Emit(Code, a => a.ud2());
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(11), g.Cpu.Rip);
        Assert.Equal([6u * 8 + 3, (uint)Code, KernelCs, 0x202u | Rf], g.Frame(4));
    }

    [Fact]
    public void Task_gate_to_the_busy_running_task_raises_gp_with_the_tss_selector_and_ext()
    {
        using var g = new ProtectedModeGuest();
        g.WriteU64(Gdt + TssSelector, 0x67UL | ((Tss & 0xFF_FFFF) << 16) | (0x8BUL << 40));   // busy, as TR
        g.Gate(6, TaskGate, selector: TssSelector);
        g.Gate(13);
        g.Emit(Code, a => a.ud2());
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        Assert.Equal((uint)TssSelector + 1, g.Frame(1)[0]);                    // SDM INT n, TASK-GATE: #GP(TSS selector + EXT)
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);
    }

    [Fact]
    public void Page_fault_through_a_not_present_gate_becomes_a_double_fault_without_rf()
    {
        using var g = new ProtectedModeGuest(paging: true);
        g.Gate(14, present: false);
        g.Gate(8);
        g.Emit(Code, a => { a.mov(ebx, (uint)Unmapped); a.mov(eax, __dword_ptr[ebx]); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(8), g.Cpu.Rip);
        Assert.Equal([0u, (uint)Code + 5, KernelCs, 0x202u], g.Frame(4));
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(14, 0, Unmapped, Code + 5), chain[0]);
        Assert.Equal(new FaultChainEntry(11, 14 * 8 + 3, 0, Code + 5), chain[1]);
        Assert.Equal(8, chain[^1].Vector);
    }

    [Fact]
    public void Fault_while_delivering_the_double_fault_is_a_triple_fault()
    {
        using var g = new ProtectedModeGuest(paging: true);
        g.Gate(14, present: false);
        g.Gate(8, present: false);
        g.Emit(Code, a => { a.mov(ebx, (uint)Unmapped); a.mov(eax, __dword_ptr[ebx]); });
        Assert.False(g.Vm.Exceptions.Deliver(g.RunToException()));
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(14, chain[0].Vector);
        Assert.Contains(chain, e => e.Vector == 8);
        Assert.True(chain.Count >= 3, string.Join(", ", chain));
    }

    [Fact]
    public void Stack_switch_to_a_bad_ss0_is_an_invalid_tss_fault()
    {
        using var g = new ProtectedModeGuest();
        g.WriteU32(Tss + 8, KernelCs);                            // SS0 names a code segment
        g.Gate(6);
        g.Gate(10);
        g.Gate(8);
        g.Emit(Code, a => a.ud2());
        g.EnterUserMode(0x6_0000);
        // #TS while delivering a benign #UD is delivered on its own, again needing SS0: #DF
        // (contributory after contributory), whose delivery needs SS0 too: triple fault
        Assert.False(g.Vm.Exceptions.Deliver(g.RunToException()));
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(10, KernelCs + 1u, 0, Code), chain[1]);
    }

    [Fact]
    public void Machine_run_delivers_and_the_handler_iretd_resumes_after_the_fault_with_rf_cleared_after_one_instruction()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(6);
        // the #UD handler skips the 2-byte UD2 and returns with RF set in the popped EFLAGS
        g.Emit(Handler(6), a => { a.add(__dword_ptr[esp], 2); a.iretd(); });
        g.Emit(Code, a => { a.ud2(); a.nop(); a.nop(); a.mov(al, 0x55); a.@out(0xF4, al); a.hlt(); });
        var pending = g.RunToException();
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(2));  // add, iretd
        Assert.Equal(Code + 2, g.Cpu.Rip);
        Assert.Equal(Flag.RF, g.Cpu.Rflags & Flag.RF);             // loaded by IRET
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(2));  // nop, nop
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.RF);                 // cleared after the first nop
        Assert.Equal(Flag.IF, g.Cpu.Rflags & Flag.IF);
    }

    [Fact]
    public void Rf_from_iretd_is_cleared_inside_a_longer_run()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(6);
        g.Emit(Handler(6), a => { a.add(__dword_ptr[esp], 2); a.iretd(); });
        g.Emit(Code, a => { a.ud2(); a.nop(); a.nop(); a.nop(); a.hlt(); });
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(StopReason.Halted, g.Cpu.Run(100));
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.RF);
        Assert.Equal(Code + 6, g.Cpu.Rip);
    }

    [Fact]
    public void Popfd_clears_rf()
    {
        using var g = new ProtectedModeGuest();
        g.Emit(Code, a => { a.push(0x10202); a.popfd(); a.hlt(); });
        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.RF);
    }

    [Fact]
    public void Int_8_from_cpl3_through_a_dpl0_gate_is_a_plain_gp_not_a_double_fault()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(8);                                                // DPL 0
        g.Gate(13);
        g.Emit(Code, a => { a.@int(8); a.nop(); });
        g.EnterUserMode(0x6_0000);
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        Assert.Equal(8u * 8 + 2, g.Frame(1)[0]);
        Assert.Equal([8, 13], g.Vm.Exceptions.LastChain.Select(e => (int)e.Vector));
    }

    [Fact]
    public void Push_beyond_the_stack_segment_limit_is_a_stack_fault_with_ext()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(6);
        g.Gate(12);
        g.Emit(Code, a => a.ud2());
        // a kernel stack segment limited to 4 KiB, ESP above it: the #UD frame does not fit
        g.Cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = KernelDs, Attributes = 0x4093, Limit = 0xFFF });
        g.Cpu.WriteGpr(Processor.RSP, 0x2000);
        Assert.False(g.Vm.Exceptions.Deliver(g.RunToException()));   // #SS cannot be pushed either
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(12, 1, 0, Code), chain[1]);
    }
}
