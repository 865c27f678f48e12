using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.Tests.Shared;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.ProtectedModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Virtual-8086 mode against the Intel SDM (vol. 3 20.2-20.3, IRET and INT n in vol. 2): entered
/// by IRET from CPL 0 and by a task switch, 8086 addressing at CPL 3, the IOPL-sensitive
/// instructions, the I/O permission bitmap, interrupts to the PL 0 handler with the v86 frame, IRET
/// back to v86, and VM ignored in IA-32e mode.
/// </summary>
public sealed class Virtual8086Tests
{
    private const ushort V86Cs = 0x2000, V86Ss = 0x5000, V86Ds = 0x2100, V86Es = 0x2200, V86Fs = 0x2300, V86Gs = 0x2400;
    private const ulong V86Code = (ulong)V86Cs << 4;
    private const ushort V86Sp = 0x1000;
    private const ulong Vm = Flag.VM, Iopl3 = Flag.IOPL;

    /// <summary>Sets up the CPL 0 stack for an IRETD into v86 at 2000:0000 (the IRETD at
    /// <see cref="Code"/>) and assembles <paramref name="v86"/> there as 16-bit code.</summary>
    private static ProtectedModeGuest IretToV86(Action<Iced.Intel.Assembler> v86, ulong eflags = 0x202 | Vm, bool paging = false)
    {
        var g = new ProtectedModeGuest(paging);
        uint[] frame = [0, V86Cs, (uint)eflags, V86Sp, V86Ss, V86Es, V86Ds, V86Fs, V86Gs];
        ulong esp = StackTop - 36;
        for (int i = 0; i < frame.Length; i++) g.WriteU32(esp + (ulong)i * 4, frame[i]);
        g.Cpu.WriteGpr(Processor.RSP, esp);
        g.Emit(Code, a => a.iretd());
        FlatLongModeGuest.Emit(g.Vm, V86Code, v86, 16);
        return g;
    }

    private static ushort U16(ProtectedModeGuest g, ulong at) => BinaryPrimitives.ReadUInt16LittleEndian(g.Vm.Memory.Slice(at, 2));

    [Fact]
    public void Iret_from_cpl0_enters_v86_with_paragraph_bases_8086_offsets_and_cpl3()
    {
        using var g = IretToV86(a =>
        {
            a.mov(ax, __word_ptr[0x10]);                                          // DS:0010 = 0x21010
            a.mov(bx, 0xFFFF);
            a.mov(si, 0x11);
            a.mov(cx, __word_ptr[bx + si]);                                       // offset (FFFF + 11) mod 64 KiB = 0010
            a.mov(dx, __word_ptr.es[0]);                                          // ES:0000 = 0x22000
            a.hlt();                                                              // privileged at CPL 3: #GP(0)
        });
        g.WriteU32(0x21010, 0xBEEF);
        g.WriteU32(0x22000, 0x1E5);

        var pending = g.RunToException();

        Assert.Equal(new GuestFault(13, true, 0, 0), pending.Fault);
        Assert.True(g.Cpu.V86Mode);
        Assert.Equal(3, g.Cpu.Cpl);
        Assert.Equal(16, g.Cpu.Bitness);
        Assert.Equal((ulong)V86Ds << 4, g.Cpu.Segments[Processor.DS].Base);
        Assert.Equal((ulong)V86Ss << 4, g.Cpu.Segments[Processor.SS].Base);
        Assert.Equal(0xBEEFUL, g.Cpu.ReadGpr(Processor.RAX));
        Assert.Equal(0xBEEFUL, g.Cpu.ReadGpr(Processor.RCX));
        Assert.Equal(0x1E5UL, g.Cpu.ReadGpr(Processor.RDX));
        Assert.Equal(V86Sp, g.Cpu.ReadGpr(Processor.RSP));
    }

    [Fact]
    public void A_fault_in_v86_goes_to_the_pl0_handler_with_gs_fs_ds_es_ss_esp_eflags_cs_eip_and_null_data_segments()
    {
        using var g = IretToV86(a => { a.nop(); a.hlt(); });
        g.Gate(13);
        var pending = g.RunToException();

        Assert.True(g.Vm.Exceptions.Deliver(pending));

        Assert.Equal(Handler(13), g.Cpu.Rip);
        Assert.False(g.Cpu.V86Mode);
        Assert.Equal(0, g.Cpu.Cpl);
        Assert.Equal(32, g.Cpu.Bitness);
        Assert.Equal((uint)Esp0 - 40, g.Esp);                                       // SS0:ESP0 from the TSS, ten dwords
        uint[] frame = g.Frame(10);
        Assert.Equal([0u, 1u, V86Cs], frame[..3]);                                // error code, IP of the HLT, CS
        Assert.Equal((uint)(Vm | 0x202 | Flag.RF), frame[3]);                     // EFLAGS with VM (and RF: a fault)
        Assert.Equal([(uint)V86Sp, V86Ss, V86Es, V86Ds, V86Fs, V86Gs], frame[4..]);
        foreach (int seg in new[] { Processor.ES, Processor.DS, Processor.FS, Processor.GS })
            Assert.Equal(0, g.Cpu.Segments[seg].Selector);
        Assert.Equal(KernelDs, g.Cpu.Segments[Processor.SS].Selector);
        Assert.Equal(0UL, g.Cpu.Rflags & (Vm | Flag.IF));
    }

    public static TheoryData<string> IoplSensitive => ["cli", "sti", "pushf", "popf", "int 21h", "iret"];

    [Theory]
    [MemberData(nameof(IoplSensitive))]
    public void Iopl_sensitive_instructions_are_gp0_below_iopl3(string instruction)
    {
        using var g = IretToV86(a =>
        {
            switch (instruction)
            {
                case "cli": a.cli(); break;
                case "sti": a.sti(); break;
                case "pushf": a.pushf(); break;
                case "popf": a.popf(); break;
                case "int 21h": a.@int(0x21); break;
                default: a.iret(); break;
            }
        });
        g.Gate(0x21, dpl: 3);
        var pending = g.RunToException();
        Assert.Equal(new GuestFault(13, true, 0, 0), pending.Fault);
        Assert.False(pending.IsSoftwareInterrupt);
        Assert.Equal(V86Code, g.Cpu.Segments[Processor.CS].Base + g.Cpu.Rip);
    }

    [Fact]
    public void With_iopl3_pushf_popf_cli_sti_run_and_popf_cannot_change_iopl_or_vm()
    {
        using var g = IretToV86(a =>
        {
            a.cli();
            a.pushf();
            a.pop(ax);                                                            // FLAGS image (16 bits: no VM)
            a.push(0);
            a.popf();                                                             // tries IOPL 0
            a.pushfd();
            a.pop(ebx);
            a.sti();
            a.hlt();
        }, eflags: 0x202 | Vm | Iopl3);
        var pending = g.RunToException();
        Assert.Equal(GuestFault.GeneralProtection, pending.Fault.Vector);          // the HLT
        Assert.Equal(0x3002UL, g.Cpu.ReadGpr(Processor.RAX));                     // IF cleared by CLI, IOPL 3
        Assert.Equal(0x3002UL, g.Cpu.ReadGpr(Processor.RBX));                     // IOPL kept; PUSHFD clears VM and RF in the image
        Assert.True(g.Cpu.V86Mode);
        Assert.Equal(Iopl3 | Flag.IF, g.Cpu.Rflags & (Iopl3 | Flag.IF));
    }

    [Fact]
    public void Int_n_at_iopl3_goes_through_a_dpl3_gate_and_iret_returns_to_v86()
    {
        using var g = IretToV86(a =>
        {
            a.@int(0x21);
            a.mov(__word_ptr[0x20], ax);
            a.hlt();
        }, eflags: 0x202 | Vm | Iopl3);
        g.Gate(0x21, TrapGate, dpl: 3);
        g.Emit(Handler(0x21), a => { a.mov(eax, 0x4321); a.iretd(); });

        var pending = g.RunToException();
        Assert.True(pending.IsSoftwareInterrupt);
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Handler(0x21), g.Cpu.Rip);
        Assert.Equal(2u, g.Frame(1)[0]);                                           // IP after INT 21h

        pending = g.RunToException();                                            // back in v86: the HLT
        Assert.Equal(GuestFault.GeneralProtection, pending.Fault.Vector);
        Assert.True(g.Cpu.V86Mode);
        Assert.Equal(3, g.Cpu.Cpl);
        Assert.Equal(0x4321, U16(g, ((ulong)V86Ds << 4) + 0x20));
        Assert.Equal((ulong)V86Ds << 4, g.Cpu.Segments[Processor.DS].Base);       // restored by the IRET
        Assert.Equal(V86Sp, g.Cpu.ReadGpr(Processor.RSP));
    }

    [Fact]
    public void Int_n_through_a_dpl0_gate_is_gp_with_the_gate_error_code()
    {
        using var g = IretToV86(a => a.@int(0x21), eflags: 0x202 | Vm | Iopl3);
        g.Gate(0x21, dpl: 0);
        g.Gate(13);
        var pending = g.RunToException();
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal(Handler(13), g.Cpu.Rip);
        Assert.Equal(0x21u * 8 + 2, g.Frame(1)[0]);
    }

    [Fact]
    public void A_handler_segment_with_dpl3_is_gp_with_its_selector()
    {
        using var g = IretToV86(a => a.hlt());
        g.Gate(13, selector: UserCs);
        g.Gate(8);
        var pending = g.RunToException();
        Assert.True(g.Vm.Exceptions.Deliver(pending));
        Assert.Equal([13, 13, 8], g.Vm.Exceptions.LastChain.Select(e => (int)e.Vector).ToArray());
        Assert.Equal((uint)(UserCs & ~3) + 1, g.Vm.Exceptions.LastChain[1].ErrorCode);   // the handler's CS + EXT
    }

    [Theory]
    [InlineData(0x80, 1, true)]
    [InlineData(0x81, 1, false)]
    [InlineData(0x7F, 2, true)]
    [InlineData(0x80, 2, false)]                                                   // covers 0x81 too
    [InlineData(0x7FF8, 1, false)]                                                 // beyond the TSS limit
    public void In_out_check_the_tss_io_permission_bitmap(int port, int size, bool allowed)
    {
        using var g = IretToV86(a =>
        {
            if (size == 1) a.@out(dx, al); else a.@out(dx, ax);
            a.@in(al, dx);
            a.hlt();
        });
        g.Cpu.WriteGpr(Processor.RDX, (ulong)port);
        const ulong map = 0x68;
        g.Vm.Memory.Slice(Tss + map, 0x20).Fill(0xFF);
        g.Vm.Memory.Slice(Tss + 0x66, 2)[0] = (byte)map;
        g.Vm.Memory.Slice(Tss + map + 0x7F / 8, 1)[0] = 0x7F;                     // ports 0x78-0x7E denied, 0x7F allowed
        g.Vm.Memory.Slice(Tss + map + 0x80 / 8, 1)[0] = 0xFE;                     // port 0x80 allowed, 0x81-0x87 denied
        var tr = g.Cpu.Tr;
        tr.Limit = (uint)(map + 0x20 - 1);
        g.Cpu.Tr = tr;

        var pending = g.RunToException();

        Assert.Equal(GuestFault.GeneralProtection, pending.Fault.Vector);
        Assert.Equal(allowed ? 2UL : 0UL, g.Cpu.Rip);                              // the HLT after OUT and IN, or the OUT itself
    }

    [Fact]
    public void A_task_switch_to_a_tss_with_vm_set_enters_v86()
    {
        using var g = new ProtectedModeGuest();
        const ulong Tss2 = 0x13000;
        const ushort Tss2Sel = 0x38;
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x3F };
        g.WriteU64(Gdt + TssSelector, 0x67UL | ((Tss & 0xFF_FFFF) << 16) | (0x8BUL << 40));
        g.WriteU64(Gdt + Tss2Sel, 0x67UL | ((Tss2 & 0xFF_FFFF) << 16) | (0x89UL << 40));
        g.WriteU32(Tss2 + 0x20, 0x0004);                                           // IP
        g.WriteU32(Tss2 + 0x24, (uint)(Vm | 0x2));
        g.WriteU32(Tss2 + 0x38, V86Sp);
        ushort[] sels = [V86Es, V86Cs, V86Ss, V86Ds, V86Fs, V86Gs];
        for (int s = 0; s < 6; s++) g.WriteU32(Tss2 + 0x48 + (ulong)s * 4, sels[s]);
        FlatLongModeGuest.Emit(g.Vm, V86Code + 4, a => { a.mov(ax, ds); a.hlt(); }, 16);
        g.Emit(Code, a => a.jmp(Tss2Sel, 0));

        var pending = g.RunToException();

        Assert.Equal(GuestFault.GeneralProtection, pending.Fault.Vector);
        Assert.True(g.Cpu.V86Mode);
        Assert.Equal(3, g.Cpu.Cpl);
        Assert.Equal((ulong)V86Ds, g.Cpu.ReadGpr(Processor.RAX) & 0xFFFF);
        Assert.Equal(V86Code + 6, g.Cpu.Segments[Processor.CS].Base + g.Cpu.Rip);
    }

    [Fact]
    public void In_long_mode_iretq_cannot_set_vm()
    {
        using var g = new LongModeGuest();
        ulong rsp = LongModeGuest.StackTop - 40;
        ulong[] frame = [LongModeGuest.Code + 2, LongModeGuest.KernelCs, 0x202 | Vm, LongModeGuest.StackTop, LongModeGuest.KernelDs];
        for (int i = 0; i < frame.Length; i++) g.WriteU64(rsp + (ulong)i * 8, frame[i]);
        g.Cpu.WriteGpr(Processor.RSP, rsp);
        g.Emit(LongModeGuest.Code, a => { a.iretq(); a.hlt(); });
        Assert.Equal(StopReason.Halted, g.Cpu.Run(10));
        Assert.Equal(0UL, g.Cpu.Rflags & Vm);
        Assert.Equal(64, g.Cpu.Bitness);
        Assert.Equal(0, g.Cpu.Cpl);
    }

    [Fact]
    public void Vme_is_neither_advertised_nor_accepted_in_cr4()
    {
        using var g = new ProtectedModeGuest();
        g.Gate(13);
        g.Emit(Code, a => { a.mov(eax, 1); a.cpuid(); a.mov(eax, 1); a.mov(cr4, eax); });
        var pending = g.RunToException();
        Assert.Equal(0UL, g.Cpu.ReadGpr(Processor.RDX) & 2);                      // CPUID.1:EDX.VME
        Assert.Equal(new GuestFault(13, true, 0, 0), pending.Fault);
        Assert.Equal(0UL, g.Cpu.Cr4 & 1);
    }
}
