using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.ProtectedModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Hardware task switching in 32-bit protected mode against the Intel SDM (vol. 3 chapter 8,
/// JMP/CALL/IRET/INT n in vol. 2): JMP/CALL FAR to a TSS and to a task gate, IRET with NT back
/// through the back link, exceptions through IDT task gates (#DF, error codes on the new task's
/// stack), busy bits, TR, CR0.TS, CR3, the #GP/#NP/#TS checks, and #GP in IA-32e mode.
/// </summary>
public sealed class TaskSwitchTests
{
    private const ulong Tss2 = 0x13000, Tss3 = 0x14000, Ldt = 0x15000;
    private const ulong Task2Code = 0x50000, Task2Stack = 0x60000;
    private const ushort Tss2Sel = 0x38, GateSel = 0x40, LdtSel = 0x48, Tss3Sel = 0x50, SmallTssSel = 0x58;
    private const uint Tss32 = 0x89, Ts = 8;

    /// <summary>The guest plus a second 32-bit TSS (0x38) describing a CPL 0 task at
    /// <see cref="Task2Code"/>, a task gate (0x40) to it, an LDT (0x48), a third TSS (0x50) and a
    /// TSS with limit 0x66 (0x58). The current task (TR 0x28) is busy in the GDT.</summary>
    private static ProtectedModeGuest TwoTasks(bool paging = false)
    {
        var g = new ProtectedModeGuest(paging);
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x5F };
        g.WriteU64(Gdt + TssSelector, SystemDescriptor(Tss, 0x67, 0x8B));        // the running task: busy
        g.WriteU64(Gdt + Tss2Sel, SystemDescriptor(Tss2, 0x67, Tss32));
        g.WriteU64(Gdt + GateSel, ((ulong)Tss2Sel << 16) | (0x85UL << 40));         // task gate, DPL 0
        g.WriteU64(Gdt + LdtSel, SystemDescriptor(Ldt, 0x17, 0x82));
        g.WriteU64(Gdt + Tss3Sel, SystemDescriptor(Tss3, 0x67, Tss32));
        g.WriteU64(Gdt + SmallTssSel, SystemDescriptor(Tss3, 0x66, Tss32));
        uint cr3 = paging ? (uint)PageDirectory : 0;
        g.WriteU32(Tss + 0x1C, cr3);                                                // the running task's CR3 (a static field: never saved)
        WriteTask(g, Tss2, Task2Code, Task2Stack, cr3: cr3);
        WriteTask(g, Tss3, Task2Code + 0x100, Task2Stack - 0x1000, cr3: cr3);
        return g;
    }

    private static ulong SystemDescriptor(ulong b, uint limit, uint access) =>
        (limit & 0xFFFF) | ((b & 0xFF_FFFF) << 16) | ((ulong)access << 40) | ((ulong)((limit >> 16) & 0xF) << 48) | (((b >> 24) & 0xFF) << 56);

    private static void WriteTask(ProtectedModeGuest g, ulong tss, ulong eip, ulong esp, uint eflags = 0x2, ushort cs = KernelCs, ushort ds = KernelDs, ushort ldt = 0, uint cr3 = 0)
    {
        g.WriteU32(tss + 0x1C, cr3);
        g.WriteU32(tss + 0x20, (uint)eip);
        g.WriteU32(tss + 0x24, eflags);
        for (int r = 0; r < 8; r++) g.WriteU32(tss + 0x28 + (ulong)r * 4, 0x1000u * (uint)(r + 1) + 0x11);
        g.WriteU32(tss + 0x38, (uint)esp);
        g.WriteU32(tss + 0x48, ds);      // ES
        g.WriteU32(tss + 0x4C, cs);
        g.WriteU32(tss + 0x50, ds);      // SS
        g.WriteU32(tss + 0x54, ds);
        g.WriteU32(tss + 0x58, 0);
        g.WriteU32(tss + 0x5C, 0);
        g.WriteU32(tss + 0x60, ldt);
    }

    private static uint U32(ProtectedModeGuest g, ulong at) => BinaryPrimitives.ReadUInt32LittleEndian(g.Vm.Memory.Slice(at, 4));

    private static bool Busy(ProtectedModeGuest g, ushort sel) => ((g.ReadU64(Gdt + sel) >> 40) & 2) != 0;

    [Fact]
    public void Jmp_far_to_a_tss_saves_the_old_task_loads_the_new_one_and_moves_the_busy_bit()
    {
        using var g = TwoTasks();
        g.Emit(Code, a => { a.mov(eax, 0xA1); a.mov(esi, 0xA6); a.jmp(Tss2Sel, 0); });
        g.Emit(Task2Code, a => a.hlt());

        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));

        Assert.Equal(Task2Code + 1, g.Cpu.Rip);
        Assert.Equal(Tss2Sel, g.Cpu.Tr.Selector);
        Assert.Equal(Tss2, g.Cpu.Tr.Base);
        Assert.Equal(0x1011UL, g.Cpu.ReadGpr(Processor.RAX));
        Assert.Equal(Task2Stack, g.Cpu.ReadGpr(Processor.RSP));
        Assert.Equal(KernelDs, g.Cpu.Segments[Processor.DS].Selector);
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.NT);                                // JMP does not nest
        Assert.Equal(Ts, g.Cpu.Cr0 & Ts);                                         // CR0.TS set by every switch
        Assert.False(Busy(g, TssSelector));
        Assert.True(Busy(g, Tss2Sel));
        Assert.Equal(0u, U32(g, Tss2));                                           // no back link
        // the old task's dynamic state, EIP after the JMP
        Assert.Equal((uint)Code + 5 + 5 + 7, U32(g, Tss + 0x20));
        Assert.Equal(0xA1u, U32(g, Tss + 0x28));
        Assert.Equal(0xA6u, U32(g, Tss + 0x40));
        Assert.Equal((uint)StackTop, U32(g, Tss + 0x38));
        Assert.Equal(KernelCs, U32(g, Tss + 0x4C));
    }

    [Fact]
    public void Call_through_a_task_gate_nests_and_iret_returns_to_the_caller()
    {
        using var g = TwoTasks();
        g.Emit(Code, a => { a.mov(ebx, 0xB0B); a.call(GateSel, 0); a.mov(ecx, ebx); a.hlt(); });
        g.Emit(Task2Code, a => { a.mov(edx, 0xD2); a.iretd(); });

        Assert.Equal(StopReason.Halted, g.Cpu.Run(20));

        Assert.Equal(0xB0BUL, g.Cpu.ReadGpr(Processor.RCX));                       // the caller's state came back
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);
        Assert.Equal(0UL, g.Cpu.Rflags & Flag.NT);
        Assert.Equal(TssSelector, U32(g, Tss2));                                  // back link written by the CALL
        Assert.Equal(0UL, U32(g, Tss2 + 0x24) & Flag.NT);                        // IRET saves the nested task with NT clear (SDM 8.3 step 7)
        Assert.Equal(0xD2u, U32(g, Tss2 + 0x30));
        Assert.True(Busy(g, TssSelector));                                        // CALL kept the caller busy
        Assert.False(Busy(g, Tss2Sel));                                           // IRET freed the nested task
        Assert.Equal((uint)StackTop, (uint)g.Cpu.ReadGpr(Processor.RSP));
    }

    [Fact]
    public void Jmp_or_call_to_a_busy_tss_is_gp_with_its_selector()
    {
        using var g = TwoTasks();
        g.Emit(Code, a => a.call(TssSelector, 0));                                // the running task is busy
        var pending = g.RunToException();
        Assert.Equal(new GuestFault(13, true, TssSelector, 0), pending.Fault);
        Assert.Equal(Code, g.Cpu.Rip);
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);
    }

    [Fact]
    public void A_not_present_tss_is_np_and_a_limit_below_67h_is_ts()
    {
        using var g = TwoTasks();
        g.WriteU64(Gdt + Tss3Sel, SystemDescriptor(Tss3, 0x67, Tss32 & ~0x80u));
        g.Emit(Code, a => a.jmp(Tss3Sel, 0));
        Assert.Equal(new GuestFault(11, true, Tss3Sel, 0), g.RunToException().Fault);

        g.Emit(Code, a => a.jmp(SmallTssSel, 0));
        g.Cpu.Rip = Code;
        Assert.Equal(new GuestFault(10, true, SmallTssSel, 0), g.RunToException().Fault);
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);                              // nothing switched
        Assert.True(Busy(g, TssSelector));
    }

    [Fact]
    public void A_tss_dpl_below_cpl_is_gp()
    {
        using var g = TwoTasks();
        g.Emit(Code, a => a.jmp(Tss2Sel | 3, 0));                                  // RPL 3 > DPL 0
        Assert.Equal(new GuestFault(13, true, Tss2Sel, 0), g.RunToException().Fault);
    }

    [Fact]
    public void An_invalid_ldt_in_the_new_tss_is_ts_raised_in_the_new_task()
    {
        using var g = TwoTasks();
        g.WriteU32(Tss2 + 0x60, Tss3Sel);                                         // a TSS descriptor is no LDT
        g.Gate(10, TaskGate, selector: Tss3Sel);                                  // #TS handled by a task, as the SDM advises
        g.Emit(Code, a => a.jmp(Tss2Sel, 0));
        var pending = g.RunToException();

        Assert.Equal(new GuestFault(10, true, Tss3Sel, 0), pending.Fault);
        Assert.Equal(Tss2Sel, g.Cpu.Tr.Selector);                                  // the switch happened
        Assert.Equal(Task2Code, g.Cpu.Rip);                                        // the fault belongs to the new task
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Tss3Sel, g.Cpu.Tr.Selector);
        Assert.Equal(Task2Code + 0x100, g.Cpu.Rip);
        Assert.Equal((uint)Tss3Sel, U32(g, g.Esp));                                 // the error code on the #TS task's stack
        Assert.Equal((uint)Task2Code, U32(g, Tss2 + 0x20));                         // the faulting task resumes at its first instruction
        Assert.Equal(Tss2Sel, U32(g, Tss3));                                      // back link
    }

    [Fact]
    public void A_valid_ldt_is_loaded_and_its_segments_usable()
    {
        using var g = TwoTasks();
        g.WriteU64(Ldt + 8, 0x00CF_9200_0000_FFFFUL | (0x2000UL << 16));           // LDT data segment 0x0C: base 0x2000
        WriteTask(g, Tss2, Task2Code, Task2Stack, ds: KernelDs, ldt: LdtSel);
        g.WriteU32(Tss2 + 0x5C, 0x0C);                                             // GS from the LDT
        g.WriteU32(0x2010, 0xFEED);
        g.Emit(Code, a => a.jmp(Tss2Sel, 0));
        g.Emit(Task2Code, a => { a.mov(eax, __dword_ptr.gs[0x10]); a.hlt(); });

        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));
        Assert.Equal(LdtSel, g.Cpu.Ldtr.Selector);
        Assert.Equal(0xFEEDUL, g.Cpu.ReadGpr(Processor.RAX));
    }

    [Fact]
    public void The_new_tasks_cr3_is_loaded_when_paging_is_on()
    {
        using var g = TwoTasks(paging: true);
        const ulong Pd2 = 0x2000;
        g.WriteU32(Pd2, 0x87);                                                     // the same 4 MiB identity page
        g.WriteU32(Pd2 + 4, 0x87);                                                 // and 4-8 MiB -> 0: an alias only this task has
        WriteTask(g, Tss2, Task2Code, Task2Stack, cr3: (uint)Pd2);
        g.WriteU32(0x100, 0xCAFE);
        g.Emit(Code, a => a.jmp(Tss2Sel, 0));
        g.Emit(Task2Code, a => { a.mov(eax, __dword_ptr[0x40_0100]); a.hlt(); });

        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));
        Assert.Equal(Pd2, g.Cpu.Cr3);
        Assert.Equal(0xCAFEUL, g.Cpu.ReadGpr(Processor.RAX));
    }

    [Fact]
    public void Double_fault_through_a_task_gate_runs_the_handler_task_with_error_code_0_on_its_stack()
    {
        using var g = TwoTasks();
        g.Gate(13, present: false);                                                // #GP -> #NP while delivering -> #DF
        g.Gate(8, TaskGate, selector: Tss2Sel);
        g.Emit(Code, a => { a.mov(ax, 0x70); a.mov(ds, ax); });                     // beyond the GDT: #GP(0x70)
        var pending = g.RunToException();

        Assert.True(g.Vm.Exceptions.Deliver(pending));

        Assert.Equal(Tss2Sel, g.Cpu.Tr.Selector);
        Assert.Equal(Task2Code, g.Cpu.Rip);
        Assert.Equal(Task2Stack - 4, g.Cpu.ReadGpr(Processor.RSP));
        Assert.Equal(0u, U32(g, Task2Stack - 4));                                   // #DF's error code
        Assert.Equal(Flag.NT, g.Cpu.Rflags & Flag.NT);
        Assert.Equal(TssSelector, U32(g, Tss2));                                   // back link to the faulting task
        Assert.Equal((uint)Code + 4, U32(g, Tss + 0x20));                           // it resumes at the faulting instruction
        Assert.Equal([13, 11, 8], g.Vm.Exceptions.LastChain.Select(e => (int)e.Vector).ToArray());
    }

    [Fact]
    public void Page_fault_through_a_task_gate_pushes_its_error_code_and_iret_resumes_the_faulting_task()
    {
        using var g = TwoTasks(paging: true);
        g.Gate(14, TaskGate, selector: Tss2Sel);
        g.Emit(Code, a => { a.mov(ebx, 0x50_0010); a.mov(__dword_ptr[ebx], eax); a.hlt(); });
        // the handler task maps the page (PDE 1 -> 0-4 MiB), drops the error code and returns
        g.Emit(Task2Code, a => { a.mov(__dword_ptr[PageDirectory + 4], 0x87); a.pop(eax); a.iretd(); a.jmp(Task2Code); });

        var pending = g.RunToException();
        Assert.Equal(GuestFault.PageFault, pending.Fault.Vector);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(2u, U32(g, Task2Stack - 4));                                   // W, supervisor, not present
        Assert.Equal(Task2Code, g.Cpu.Rip);

        Assert.Equal(StopReason.Halted, g.Cpu.Run(20));
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);
        Assert.Equal(Code + 5 + 2 + 1, g.Cpu.Rip);                                 // after the store, which completed
    }

    [Fact]
    public void Iret_with_nt_to_a_link_that_is_not_busy_is_ts()
    {
        using var g = TwoTasks();
        g.WriteU32(Tss, Tss3Sel);                                                  // back link to an available TSS
        g.Cpu.Rflags |= Flag.NT;
        g.Emit(Code, a => a.iretd());
        Assert.Equal(new GuestFault(10, true, Tss3Sel, 0), g.RunToException().Fault);
    }

    [Fact]
    public void In_long_mode_a_tss_jump_and_a_task_gate_are_gp_and_iret_with_nt_is_gp0()
    {
        using var g = new LongModeGuest();
        g.Gate(13);
        g.Emit(Code, a => a.jmp(__fword_ptr[rbx]));
        g.WriteU64(0x20_0000, (ulong)LongModeGuest.TssSelector << 32);               // m16:32 far pointer to the 64-bit TSS
        g.Cpu.Gpr[Processor.RBX] = 0x20_0000;
        g.Cpu.Rip = Code;
        Assert.Equal(new GuestFault(13, true, LongModeGuest.TssSelector, 0), g.RunToException().Fault);

        g.Cpu.Rflags |= Flag.NT;
        g.Emit(Code, a => a.iretq());
        g.Cpu.Rip = Code;
        Assert.Equal(new GuestFault(13, true, 0, 0), g.RunToException().Fault);
        g.Cpu.Rflags &= ~Flag.NT;

        // a task gate in a 64-bit IDT is invalid: #GP(vector * 8 + 2 + EXT), here while delivering #UD
        g.WriteU64(LongModeGuest.Idt + 6 * 16, ((ulong)LongModeGuest.TssSelector << 16) | (0x85UL << 40));
        g.WriteU64(LongModeGuest.Idt + 6 * 16 + 8, 0);
        g.Emit(Code, a => a.ud2());
        g.Cpu.Rip = Code;
        Assert.True(g.Vm.Exceptions.Deliver(g.RunToException()));
        Assert.Equal(LongModeGuest.Handler(13), g.Cpu.Rip);
        Assert.Equal(6UL * 8 + 2 + 1, g.ReadU64(g.Cpu.ReadGpr(Processor.RSP)));
    }

    [Fact]
    public void A_host_hook_refusing_the_tr_load_makes_the_switch_gp0_with_nothing_changed()
    {
        using var g = TwoTasks();
        g.Cpu.DescriptorTableHook = new RefuseTr();
        g.Emit(Code, a => a.jmp(Tss2Sel, 0));
        Assert.Equal(new GuestFault(13, true, 0, 0), g.RunToException().Fault);
        Assert.Equal(TssSelector, g.Cpu.Tr.Selector);
        Assert.True(Busy(g, TssSelector));
        Assert.False(Busy(g, Tss2Sel));
        Assert.Equal(0u, U32(g, Tss + 0x20));                                      // nothing saved
        Assert.Equal(0UL, g.Cpu.Cr0 & Ts);
    }

    private sealed class RefuseTr : IDescriptorTableHook
    {
        public bool AllowLoad(Processor cpu, DescriptorTableLoad register, ulong @base, ushort limit, ushort selector) => register != DescriptorTableLoad.Tr;
    }
}
