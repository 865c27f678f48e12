using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// The debug architecture against the SDM (vol. 3 ch. 18; the host cannot run these: they need
/// CPL 0 or trap into the test process): TF single-step traps with the MOV SS / STI shadows,
/// DR0-DR3/DR7 instruction breakpoints (faults, RF), data watchpoints and I/O breakpoints (traps,
/// LEN and R/W), DR6 (B0-B3, BS, BD), DR7.GD, INT1, MOV DR with CR4.DE.
/// </summary>
public sealed class DebugArchitectureTests
{
    private const ulong Data = GuestBox.DataBase;

    private static PendingException Db(GuestBox box, long budget = 1000)
    {
        var stop = box.Run(budget);
        Assert.True(stop == StopReason.Exception, $"{stop} {box.Describe()}");
        var p = box.Cpu.PendingException!.Value;
        Assert.Equal(GuestFault.Debug, p.Fault.Vector);
        return p;
    }

    /// <summary>The RIPs of the instructions of <paramref name="emit"/> at <see cref="GuestBox.CodeBase"/>.</summary>
    private static List<ulong> Rips(GuestBox box, Action<Assembler> emit)
    {
        box.Load(emit);
        var rips = new List<ulong>();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(box.Memory.Slice(GuestBox.CodeBase, (int)(box.CodeEnd - GuestBox.CodeBase)).ToArray()), GuestBox.CodeBase);
        while (decoder.IP < box.CodeEnd)
        {
            rips.Add(decoder.IP);
            decoder.Decode();
        }
        return rips;
    }

    [Fact]
    public void Tf_traps_after_every_instruction_with_bs_and_rip_of_the_next()
    {
        using var box = new GuestBox();
        var rips = Rips(box, a => { a.mov(eax, 1); a.add(eax, 2); a.inc(eax); a.hlt(); });
        box.Cpu.Rflags |= Flag.TF;
        for (int i = 1; i < 4; i++)
        {
            var p = Db(box);
            Assert.True(p.IsTrap);
            Assert.False(p.IsSoftwareInterrupt);
            Assert.Equal(rips[i], box.Cpu.Rip);
            Assert.Equal(rips[i - 1], p.InstructionRip);
            Assert.Equal(Cpu.Dr6Bs | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
            Assert.Equal((long)i, box.Cpu.InstructionsRetired);
        }
        Assert.Equal(4UL, box.Cpu.Gpr[Cpu.RAX]);                     // mov 1, add 2, inc
    }

    [Fact]
    public void Without_tf_nothing_traps_and_a_faulting_instruction_under_tf_gives_its_fault_not_db()
    {
        using (var box = new GuestBox())
        {
            box.Load(a => { a.mov(eax, 1); a.hlt(); });
            Assert.Equal(StopReason.Halted, box.Run());
        }
        using (var box = new GuestBox())
        {
            box.Load(a => a.ud2());
            box.Cpu.Rflags |= Flag.TF;
            Assert.Equal(StopReason.Exception, box.Run());
            Assert.Equal(GuestFault.InvalidOpcode, box.Cpu.PendingException!.Value.Fault.Vector);
            Assert.Equal(Cpu.Dr6Reserved, box.Cpu.Dr[6]);
        }
    }

    [Fact]
    public void Popf_setting_tf_traps_only_after_the_next_instruction_and_popf_clearing_it_still_traps()
    {
        using var box = new GuestBox();
        var rips = Rips(box, a =>
        {
            a.pushfq(); a.bts(__qword_ptr[rsp], 8); a.popfq();     // TF on
            a.nop();                                                 // traps after this one
            a.pushfq(); a.btr(__qword_ptr[rsp], 8); a.popfq();     // TF off: traps after each, the popf included
            a.nop();
            a.hlt();
        });
        Assert.Equal(rips[3], Db(box).InstructionRip);              // the nop
        Assert.Equal(rips[4], box.Cpu.Rip);
        Db(box); Db(box);                                            // pushfq, btr
        var p = Db(box);                                             // the popf that cleared TF
        Assert.Equal(rips[6], p.InstructionRip);
        Assert.Equal(StopReason.Halted, box.Run());
    }

    [Fact]
    public void Mov_ss_delays_the_single_step_trap_past_the_next_instruction_and_sti_does_not()
    {
        using (var box = new GuestBox())
        {
            var rips = Rips(box, a => { a.xor(eax, eax); a.mov(ss, eax); a.nop(); a.nop(); a.hlt(); });   // a null SS is fine at CPL 0 in 64-bit mode
            box.Cpu.Rflags |= Flag.TF;
            Assert.Equal(rips[0], Db(box).InstructionRip);
            var p = Db(box);                                          // not after MOV SS: after the NOP
            Assert.Equal(rips[2], p.InstructionRip);
            Assert.Equal(rips[3], box.Cpu.Rip);
            Assert.Equal(3L, box.Cpu.InstructionsRetired);
        }
        using (var box = new GuestBox(longMode: false))
        {
            // POP SS exists outside 64-bit mode: 32-bit flat protected mode with a GDT holding a data segment at 0x10
            const ulong gdt = 0x50000;
            box.WriteU64(gdt + 0x10, 0x00CF_9300_0000_FFFF);
            box.Cpu.Gdtr = new DescriptorTableRegister { Base = gdt, Limit = 0x17 };
            box.LoadBytes([0x6A, 0x10, 0x17, 0x90, 0xF4]);          // push 0x10; pop ss; nop; hlt
            box.Cpu.Rflags |= Flag.TF;
            Assert.Equal(GuestBox.CodeBase, Db(box).InstructionRip);
            Assert.Equal(GuestBox.CodeBase + 3, Db(box).InstructionRip);   // POP SS: the same as MOV SS
            Assert.Equal(GuestBox.CodeBase + 4, box.Cpu.Rip);
        }
        using (var box = new GuestBox())
        {
            var rips = Rips(box, a => { a.sti(); a.nop(); a.hlt(); });
            box.Cpu.Rflags |= Flag.TF;
            var p = Db(box);                                          // STI blocks interrupts, not #DB
            Assert.Equal(rips[0], p.InstructionRip);
            Assert.True(box.Cpu.InterruptShadow);
        }
    }

    [Fact]
    public void Tf_over_a_rep_string_traps_after_each_iteration_with_rip_on_the_instruction()
    {
        using var box = new GuestBox();
        var rips = Rips(box, a => { a.mov(edi, (uint)Data); a.mov(ecx, 3); a.rep.stosb(); a.hlt(); });
        box.Cpu.Rflags |= Flag.TF;
        Db(box); Db(box);
        Db(box);
        Assert.Equal(rips[2], box.Cpu.Rip);
        Assert.Equal(2UL, box.Cpu.Gpr[Cpu.RCX]);
        Db(box); Db(box);
        Assert.Equal(rips[3], box.Cpu.Rip);
        Assert.Equal(0UL, box.Cpu.Gpr[Cpu.RCX]);
    }

    [Fact]
    public void Hlt_under_tf_delivers_the_trap_instead_of_halting()
    {
        using var box = new GuestBox();
        var rips = Rips(box, a => { a.hlt(); a.nop(); });
        box.Cpu.Rflags |= Flag.TF;
        var p = Db(box);
        Assert.Equal(rips[0], p.InstructionRip);
        Assert.Equal(rips[1], box.Cpu.Rip);
    }

    private static void SetBreakpoint(Cpu cpu, int i, ulong address, int rw, int len, bool global = false)
    {
        cpu.SetDebugRegister(i, address);
        ulong dr7 = cpu.Dr[7] & ~(0xFUL << (16 + 4 * i));
        dr7 |= (global ? 2UL : 1UL) << (2 * i) | (ulong)rw << (16 + 4 * i) | (ulong)len << (18 + 4 * i);
        cpu.SetDebugRegister(7, dr7);
    }

    [Fact]
    public void An_instruction_breakpoint_is_a_fault_before_the_instruction_and_rf_passes_it_once()
    {
        using var box = new GuestBox();
        box.Load(a =>
        {
            var top = a.CreateLabel();
            a.mov(eax, 1);
            a.Label(ref top);
            a.inc(eax);
            a.cmp(eax, 3);
            a.jb(top);
            a.hlt();
        });
        ulong incRip = GuestBox.CodeBase + 5;
        SetBreakpoint(box.Cpu, 2, incRip, rw: 0, len: 0);
        var p = Db(box);
        Assert.False(p.IsTrap);
        Assert.Equal(incRip, box.Cpu.Rip);                           // not executed
        Assert.Equal(1UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(4UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);          // B2
        // a handler would IRET with RF set in the image: the breakpoint is passed once
        box.Cpu.ClearPendingException();
        box.Cpu.Rflags |= Flag.RF;
        Db(box);                                                     // the loop comes back: hits again
        Assert.Equal(2UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0UL, box.Cpu.Rflags & Flag.RF);                 // RF cleared after the instruction
        box.Cpu.Rflags |= Flag.RF;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(3UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void A_disabled_breakpoint_or_one_at_another_address_does_nothing()
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(eax, 1); a.inc(eax); a.hlt(); });
        box.Cpu.SetDebugRegister(0, GuestBox.CodeBase + 5);          // address set, L0/G0 clear
        box.Cpu.SetDebugRegister(7, 0x400);
        SetBreakpoint(box.Cpu, 1, GuestBox.CodeBase + 6, rw: 0, len: 0);   // mid-instruction: never an instruction start
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(2UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Theory]
    [InlineData(1, 3, 0, true)]     // write watch, 4 bytes at Data: a 1-byte write at Data+3 hits
    [InlineData(1, 0, 1, false)]    // write watch, 1 byte at Data: a write at Data+1 misses
    [InlineData(1, 2, 4, true)]     // 8 bytes (LEN 10) at Data: a write at Data+4 hits
    [InlineData(3, 1, 1, true)]     // read/write, 2 bytes at Data: Data+1 hits
    public void A_data_watchpoint_traps_after_a_write_that_overlaps_it(int rw, int len, int offset, bool hits)
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(edi, (uint)Data); a.mov(__byte_ptr[rdi + offset], 0x5A); a.nop(); a.hlt(); });
        SetBreakpoint(box.Cpu, 1, Data, rw, len);
        if (!hits)
        {
            Assert.Equal(StopReason.Halted, box.Run());
            return;
        }
        var p = Db(box);
        Assert.True(p.IsTrap);
        Assert.Equal(GuestBox.CodeBase + 5, p.InstructionRip);
        Assert.Equal(0x5A, box.Memory.Slice(Data + (ulong)offset, 1)[0]);   // the write happened
        Assert.Equal(2UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);          // B1
    }

    [Fact]
    public void A_write_watchpoint_ignores_reads_and_a_read_write_one_catches_reads_on_the_fast_micro_op_path()
    {
        using (var box = new GuestBox())
        {
            box.Load(a => { a.mov(edi, (uint)Data); a.mov(rax, __qword_ptr[rdi]); a.hlt(); });
            SetBreakpoint(box.Cpu, 0, Data, rw: 1, len: 3);
            Assert.Equal(StopReason.Halted, box.Run());
        }
        using (var box = new GuestBox())
        {
            // a loop of loads from the same page: the page stays out of the TLB, each access is checked
            box.Load(a =>
            {
                var top = a.CreateLabel();
                a.mov(edi, (uint)Data);
                a.mov(ecx, 10);
                a.Label(ref top);
                a.mov(rax, __qword_ptr[rdi + 0x100]);
                a.add(rdi, 8);
                a.dec(ecx);
                a.jnz(top);
                a.hlt();
            });
            SetBreakpoint(box.Cpu, 3, Data + 0x100 + 5 * 8, rw: 3, len: 3);
            Db(box);
            Assert.Equal(Data + 5 * 8, box.Cpu.Gpr[Cpu.RDI]);         // trapped right after the sixth load
            Assert.Equal(5UL, box.Cpu.Gpr[Cpu.RCX]);
            Assert.Equal(8UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
        }
    }

    [Fact]
    public void Breakpoints_set_after_the_page_is_cached_still_fire()
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(edi, (uint)Data); a.mov(__dword_ptr[rdi], eax); a.mov(__dword_ptr[rdi], eax); a.hlt(); });
        Assert.Equal(StopReason.InstructionLimit, box.Run(2));      // the page is in the write TLB now
        SetBreakpoint(box.Cpu, 0, Data, rw: 1, len: 3);
        Db(box);
        Assert.Equal(1UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
    }

    [Fact]
    public void Io_breakpoints_need_cr4_de_and_trap_after_the_access()
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(dx, 0x3F8); a.@out(dx, al); a.@out(dx, al); a.hlt(); });
        SetBreakpoint(box.Cpu, 0, 0x3F8, rw: 2, len: 0);
        Assert.Equal(StopReason.InstructionLimit, box.Run(2));      // CR4.DE clear: R/W 10 means nothing
        box.Cpu.WriteControlRegister(4, box.Cpu.Cr4 | 8);
        var p = Db(box);
        Assert.Equal(GuestBox.CodeBase + 5, p.InstructionRip);
        Assert.Equal(1UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
    }

    [Fact]
    public void General_detect_faults_on_mov_dr_with_bd_and_clears_gd()
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(rax, dr0); a.hlt(); });
        box.Cpu.SetDebugRegister(7, 0x400 | Cpu.Dr7Gd);
        var p = Db(box);
        Assert.False(p.IsTrap);
        Assert.Equal(GuestBox.CodeBase, box.Cpu.Rip);                // a fault: not executed
        Assert.Equal(Cpu.Dr6Bd | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
        Assert.Equal(0UL, box.Cpu.Dr[7] & Cpu.Dr7Gd);
        Assert.Equal(StopReason.Halted, box.Run());                  // GD clear: the handler's MOV DR works
    }

    [Fact]
    public void Int1_is_a_trap_that_leaves_dr6_alone()
    {
        using var box = new GuestBox();
        box.LoadBytes([0xF1, 0xF4]);                                 // int1; hlt
        box.EnterUserMode();                                         // no DPL check applies (the machine's part)
        var p = Db(box);
        Assert.True(p.IsTrap);
        Assert.False(p.IsSoftwareInterrupt);
        Assert.Equal(GuestBox.CodeBase + 1, box.Cpu.Rip);
        Assert.Equal(Cpu.Dr6Reserved, box.Cpu.Dr[6]);
    }

    [Fact]
    public void Mov_dr4_and_dr5_alias_dr6_and_dr7_without_cr4_de_and_are_ud_with_it()
    {
        using (var box = new GuestBox())
        {
            box.Load(a => { a.mov(rax, 0x1); a.mov(dr5, rax); a.mov(rbx, dr7); a.mov(rcx, dr4); a.hlt(); });
            Assert.Equal(StopReason.Halted, box.Run());
            Assert.Equal(0x401UL, box.Cpu.Gpr[Cpu.RBX]);
            Assert.Equal(Cpu.Dr6Reserved, box.Cpu.Gpr[Cpu.RCX]);
        }
        using (var box = new GuestBox())
        {
            box.Cpu.Cr4 |= 8;
            box.Load(a => { a.mov(rax, dr4); a.hlt(); });
            Assert.Equal(StopReason.Exception, box.Run());
            Assert.Equal(GuestFault.InvalidOpcode, box.Cpu.PendingException!.Value.Fault.Vector);
        }
    }

    [Fact]
    public void A_breakpoint_enabled_by_the_guest_with_mov_dr7_fires_on_the_next_matching_instruction()
    {
        using var box = new GuestBox();
        const ulong target = GuestBox.CodeBase + 0x80;
        box.Load(a =>
        {
            a.mov(rax, target);
            a.mov(dr0, rax);
            a.mov(rax, 0x402UL);                                     // G0, execute
            a.mov(dr7, rax);
            a.jmp(target);
        });
        box.LoadBytes([0x90, 0xF4], target);
        Db(box);
        Assert.Equal(target, box.Cpu.Rip);
        Assert.Equal(1UL | Cpu.Dr6Reserved, box.Cpu.Dr[6]);
        Assert.Equal(0x402UL, box.Cpu.Breakpoints.ExecMask == 1 ? box.Cpu.Dr[7] : 0);
    }
}
