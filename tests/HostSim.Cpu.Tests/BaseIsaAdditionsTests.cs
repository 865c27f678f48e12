using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// Base-ISA instructions a real CPU has that guests (or random code) reach, against the SDM: XLAT,
/// LFS/LGS/LSS, LMSW, RDPMC, INS/OUTS, LAR/LSL/VERR/VERW, the 0F 18-1F hint NOPs.
/// </summary>
public sealed class BaseIsaAdditionsTests
{
    private const ulong Gdt = 0x30000, Mem = GuestBox.DataBase;

    /// <summary>A GDT: 0x08 code64 DPL0, 0x10 data DPL0, 0x18 data DPL3 writable (limit 4 GiB),
    /// 0x20 code64 DPL3 readable, 0x28 read-only data DPL3 (limit 0xFFFF bytes), 0x30 64-bit TSS
    /// (available, limit 0x67, two slots), limit 0x3F.</summary>
    private static GuestBox WithGdt()
    {
        var box = new GuestBox();
        box.WriteU64(Gdt + 0x08, 0x00AF_9A00_0000_FFFFUL);
        box.WriteU64(Gdt + 0x10, 0x00CF_9200_0000_FFFFUL);
        box.WriteU64(Gdt + 0x18, 0x00CF_F200_0000_FFFFUL);
        box.WriteU64(Gdt + 0x20, 0x00AF_FA00_0000_FFFFUL);
        box.WriteU64(Gdt + 0x28, 0x0000_F000_0000_FFFFUL);
        box.WriteU64(Gdt + 0x30, 0x0000_8900_0000_0067UL);
        box.WriteU64(Gdt + 0x38, 0);
        box.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x3F };
        return box;
    }

    [Fact]
    public void Xlat_reads_the_table_byte_at_rbx_plus_al_and_keeps_the_rest_of_rax()
    {
        using var box = new GuestBox();
        for (int i = 0; i < 256; i++) box.Memory.Slice(Mem + (ulong)i, 1)[0] = (byte)(0xFF - i);
        box.Cpu.Gpr[Cpu.RAX] = 0x1234_5678_0000_00F0;
        box.Cpu.Gpr[Cpu.RBX] = Mem;
        box.Load(a => { a.xlatb(); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x1234_5678_0000_000FUL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void Xlat_in_16_bit_code_wraps_bx_plus_al_at_64_KiB()
    {
        using var box = new GuestBox(longMode: false);
        box.Cpu.SetSegment(Cpu.DS, new SegmentRegister { Selector = 0x10, Base = 0x50000, Limit = 0xFFFF, Attributes = 0x0093 });
        box.Cpu.SetSegment(Cpu.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFF, Attributes = 0x009B });
        box.Memory.Slice(0x50002, 1)[0] = 0x5A;
        box.Memory.Slice(0x60002, 1)[0] = 0xEE;                  // where no wrap would read
        box.Cpu.Gpr[Cpu.RBX] = 0xFFFE;
        box.Cpu.Gpr[Cpu.RAX] = 4;
        box.Load(a => { a.xlatb(); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x5AUL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void Lfs_lgs_lss_load_the_selector_and_the_offset()
    {
        using var box = WithGdt();
        box.WriteU64(Mem, 0x1122_3344);
        box.WriteU64(Mem + 4, 0x10);                              // m16:32 -> selector 0x10
        box.WriteU64(Mem + 16, 0xAABB_CCDD_EEFF_0011);
        box.WriteU64(Mem + 24, 0x10);                             // m16:64
        box.WriteU64(Mem + 32, 0x0010_3344);                      // m16:16
        box.Load(a => { a.lfs(eax, __[Mem]); a.lgs(rbx, __[Mem + 16]); a.lss(cx, __[Mem + 32]); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x1122_3344UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0xAABB_CCDD_EEFF_0011UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x3344UL, box.Cpu.Gpr[Cpu.RCX] & 0xFFFF);
        Assert.Equal((ushort)0x10, box.Cpu.Segments[Cpu.FS].Selector);
        Assert.Equal((ushort)0x10, box.Cpu.Segments[Cpu.GS].Selector);
        Assert.Equal((ushort)0x10, box.Cpu.Segments[Cpu.SS].Selector);
    }

    [Fact]
    public void Lss_with_a_code_selector_raises_gp_with_the_selector_and_leaves_the_register()
    {
        using var box = WithGdt();
        box.WriteU64(Mem, 0x08_0000_1234);                         // offset 0x1234, selector 0x08 (code)
        box.Cpu.Gpr[Cpu.RAX] = 0x7777;
        box.Load(a => { a.lss(eax, __[Mem]); a.hlt(); });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GP(0x08), box.Cpu.PendingException!.Value.Fault);
        Assert.Equal(0x7777UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void Lmsw_sets_ts_mp_em_cannot_clear_pe_and_is_cpl0_only()
    {
        using var box = new GuestBox();
        ulong before = box.Cpu.Cr0;
        box.Cpu.Gpr[Cpu.RAX] = 0xFFF8;                             // PE, MP, EM clear; TS set; high bits ignored
        box.Load(a => { a.lmsw(ax); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal((before & ~0xFUL) | 0x8 | 0x1, box.Cpu.Cr0);

        using var user = new GuestBox();
        user.EnterUserMode();
        user.Load(a => { a.lmsw(ax); a.hlt(); });
        Assert.Equal(StopReason.Exception, user.Run());
        Assert.Equal(GuestFault.GeneralProtection, user.Cpu.PendingException!.Value.Fault.Vector);
    }

    [Fact]
    public void Rdpmc_raises_gp_there_are_no_performance_counters()
    {
        foreach (bool userMode in new[] { false, true })
        {
            using var box = new GuestBox();
            if (userMode) box.EnterUserMode();
            box.Load(a => { a.xor(ecx, ecx); a.rdpmc(); a.hlt(); });
            Assert.Equal(StopReason.Exception, box.Run());
            Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        }
    }

    private sealed class Ports : IPortIo
    {
        public readonly List<(ushort Port, int Size, uint Value)> Writes = [];
        public int Reads;

        public uint In(ushort port, int size) => (uint)(0x40 + Reads++);

        public void Out(ushort port, int size, uint value) => Writes.Add((port, size, value));
    }

    [Fact]
    public void Rep_outs_and_ins_move_between_memory_and_the_port_stepping_the_index()
    {
        using var box = new GuestBox();
        var ports = new Ports();
        box.Cpu.PortIo = ports;
        box.Memory.Slice(Mem, 3).Fill(0);
        "abc"u8.CopyTo(box.Memory.Slice(Mem, 3));
        box.Load(a =>
        {
            a.mov(dx, 0x3F8);
            a.mov(rsi, Mem);
            a.mov(ecx, 3);
            a.rep.outsb();
            a.mov(rdi, Mem + 0x100);
            a.mov(ecx, 2);
            a.rep.insw();
            a.hlt();
        });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal([(0x3F8, 1, (uint)'a'), (0x3F8, 1, (uint)'b'), (0x3F8, 1, (uint)'c')], ports.Writes);
        Assert.Equal(Mem + 3, box.Cpu.Gpr[Cpu.RSI]);
        Assert.Equal(0x0041_0040UL, box.ReadU64(Mem + 0x100) & 0xFFFF_FFFF);
        Assert.Equal(Mem + 0x104, box.Cpu.Gpr[Cpu.RDI]);
        Assert.Equal(0UL, box.Cpu.Gpr[Cpu.RCX]);
    }

    [Fact]
    public void Ins_and_outs_at_cpl3_without_iopl_raise_gp_and_touch_no_port()
    {
        using var box = new GuestBox();
        var ports = new Ports();
        box.Cpu.PortIo = ports;
        box.EnterUserMode();
        box.Load(a => { a.mov(rdi, Mem); a.insb(); a.hlt(); });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0, ports.Reads);
    }

    public static TheoryData<string, bool, ushort, bool, ulong> Queries => new()
    {
        // instruction, at CPL 3, selector, ZF, value (LAR/LSL)
        { "lar", true, 0x10, false, 0 },                    // DPL 0 < CPL 3
        { "lar", true, 0x1B, true, 0x00C0_F200 },
        { "lar", false, 0x30, true, 0x0000_8900 },           // available 64-bit TSS
        { "lar", false, 0x00, false, 0 },                    // null
        { "lar", false, 0x40, false, 0 },                    // beyond the GDT limit: no fault
        { "lar", false, 0x1C, false, 0 },                    // LDT selector, LDTR null
        { "lsl", true, 0x1B, true, 0xFFFF_FFFF },            // G = 1
        { "lsl", true, 0x2B, true, 0xFFFF },
        { "lsl", false, 0x30, true, 0x67 },
        { "lsl", true, 0x30, false, 0 },                     // TSS DPL 0 at CPL 3
        { "verr", true, 0x2B, true, 0 },
        { "verr", true, 0x23, true, 0 },                     // readable code
        { "verr", true, 0x10, false, 0 },
        { "verr", false, 0x30, false, 0 },                   // system descriptor
        { "verw", true, 0x1B, true, 0 },
        { "verw", true, 0x2B, false, 0 },                    // read-only
        { "verw", false, 0x08, false, 0 },                   // code is never writable
        { "verw", true, 0x18 | 3, true, 0 },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Lar_lsl_verr_verw_report_through_zf_and_never_fault_on_a_bad_selector(string insn, bool user, ushort sel, bool zf, ulong value)
    {
        using var box = WithGdt();
        if (user) box.EnterUserMode();
        box.Cpu.Gpr[Cpu.RBX] = sel;
        box.Cpu.Gpr[Cpu.RAX] = 0x5555;
        box.Cpu.Rflags = zf ? 0x2UL : 0x2UL | Flag.ZF;             // start with the opposite
        box.Load(a =>
        {
            switch (insn)
            {
                case "lar": a.lar(eax, ebx); break;
                case "lsl": a.lsl(eax, ebx); break;
                case "verr": a.verr(bx); break;
                default: a.verw(bx); break;
            }
            a.int3();
        });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.Breakpoint, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(zf, (box.Cpu.Rflags & Flag.ZF) != 0);
        if (insn is "lar" or "lsl") Assert.Equal(zf ? value : 0x5555UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void An_instruction_longer_than_15_bytes_raises_gp0_not_ud()
    {
        using var box = new GuestBox();
        var code = Enumerable.Repeat((byte)0x66, 14).Concat(new byte[] { 0x48, 0x05, 1, 0, 0, 0 }).ToArray();   // 14 x o16, add rax, imm32: 20 bytes
        box.LoadBytes(code);
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GP(0), box.Cpu.PendingException!.Value.Fault);
        Assert.Equal(0, box.Cpu.DiagnosticsRaised);

        using var undefined = new GuestBox();                     // 14 x o16 + PUSH ES (undefined in 64-bit mode): still #UD
        undefined.LoadBytes(Enumerable.Repeat((byte)0x66, 14).Concat(new byte[] { 0x06 }).ToArray());
        Assert.Equal(StopReason.Exception, undefined.Run());
        Assert.Equal(GuestFault.InvalidOpcode, undefined.Cpu.PendingException!.Value.Fault.Vector);

        using var ok = new GuestBox();                            // 15 bytes exactly is fine
        ok.LoadBytes(Enumerable.Repeat((byte)0x66, 9).Concat(new byte[] { 0x48, 0x05, 1, 0, 0, 0, 0xF4 }).ToArray());
        Assert.True(ok.Run() == StopReason.Halted, ok.Describe());
        Assert.Equal(1UL, ok.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void Hint_nops_in_0f_18_to_0f_1f_run_as_nops()
    {
        using var box = new GuestBox();
        box.LoadBytes([0x0F, 0x19, 0x00, 0x0F, 0x1E, 0xC8, 0x0F, 0x0D, 0x38, 0xF4]);  // hint nop [rax]; hint nop eax (rdsspd-free form); prefetch /7; hlt
        box.Cpu.Gpr[Cpu.RAX] = 0x1_0000_0000_0000;                // would fault if it were accessed
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
    }
}
