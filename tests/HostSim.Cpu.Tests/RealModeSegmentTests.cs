using Xunit;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// Real-address mode (CR0.PE = 0, SDM vol. 3 ch. 20): segment loads set base = selector x 16 with
/// no descriptor table and no checks, far JMP/CALL/RET and IRET move CS the same way and IRET pops
/// IP, CS and FLAGS only. Before this, every one of them read the GDT and #GP'd.
/// </summary>
public sealed class RealModeSegmentTests
{
    private static GuestBox RealModeBox()
    {
        var box = new GuestBox(longMode: false);
        var cpu = box.Cpu;
        cpu.Reset();                                                  // CR0.PE = 0, 16-bit segments
        cpu.SetSegment(Cpu.CS, new SegmentRegister { Selector = 0, Base = 0, Attributes = 0x9B, Limit = 0xFFFF });
        cpu.Rip = GuestBox.CodeBase;
        cpu.Gpr[Cpu.RSP] = 0x8000;
        return box;
    }

    private static void Halts(GuestBox box) => Assert.True(box.Run() == StopReason.Halted, box.Describe());

    [Fact]
    public void Mov_and_pop_to_a_segment_register_set_base_selector_times_16_for_any_selector()
    {
        using var box = RealModeBox();
        box.LoadBytes([
            0xB8, 0x00, 0x20,             // mov ax, 0x2000
            0x8E, 0xD8,                   // mov ds, ax
            0xC6, 0x06, 0x10, 0x00, 0x5A, // mov byte [0x10], 0x5a
            0x68, 0xFF, 0xFF,             // push 0xffff
            0x07,                         // pop es
            0xF4,                         // hlt
        ]);
        Halts(box);
        Assert.Equal(0x5A, box.Memory.Slice(0x20010, 1)[0]);
        Assert.Equal(0x20000UL, box.Cpu.Segments[Cpu.DS].Base);
        Assert.Equal((ushort)0xFFFF, box.Cpu.Segments[Cpu.ES].Selector);
        Assert.Equal(0xFFFF0UL, box.Cpu.Segments[Cpu.ES].Base);
        Assert.Equal(0xFFFFu, box.Cpu.Segments[Cpu.ES].Limit);      // the hidden limit stays
    }

    [Fact]
    public void Far_jmp_call_and_retf_move_cs_by_selector_times_16()
    {
        using var box = RealModeBox();
        box.LoadBytes([
            0x9A, 0x20, 0x00, 0x00, 0x01, // call 0x0100:0x0020 (phys 0x1020)
            0xBB, 0x07, 0x00,             // mov bx, 7
            0xEA, 0x40, 0x00, 0x00, 0x01, // jmp 0x0100:0x0040 (phys 0x1040)
        ]);
        box.LoadBytes([0x8C, 0xC8, 0xCB], 0x1020);                     // mov ax, cs; retf
        box.LoadBytes([0x8C, 0xC9, 0xF4], 0x1040);                     // mov cx, cs; hlt
        Halts(box);
        Assert.Equal(0x100UL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        Assert.Equal(7UL, box.Cpu.Gpr[Cpu.RBX] & 0xFFFF);
        Assert.Equal(0x100UL, box.Cpu.Gpr[Cpu.RCX] & 0xFFFF);
        Assert.Equal(0x1000UL, box.Cpu.Segments[Cpu.CS].Base);
        Assert.Equal(0x43UL, box.Cpu.Rip);
        Assert.Equal(0x8000UL, box.Cpu.Gpr[Cpu.RSP]);
    }

    [Fact]
    public void Iret_pops_ip_cs_and_flags_only()
    {
        using var box = RealModeBox();
        BitConverter.TryWriteBytes(box.Memory.Slice(0x7FFA, 2), (ushort)0x0030);   // IP
        BitConverter.TryWriteBytes(box.Memory.Slice(0x7FFC, 2), (ushort)0x0100);   // CS
        BitConverter.TryWriteBytes(box.Memory.Slice(0x7FFE, 2), (ushort)0x0203);   // FLAGS: IF, CF
        box.Cpu.Gpr[Cpu.RSP] = 0x7FFA;
        box.LoadBytes([0xCF]);                                         // iret
        box.LoadBytes([0xF4], 0x1030);
        Halts(box);
        Assert.Equal(0x1000UL, box.Cpu.Segments[Cpu.CS].Base);
        Assert.Equal(0x31UL, box.Cpu.Rip);
        Assert.Equal(0x8000UL, box.Cpu.Gpr[Cpu.RSP]);
        Assert.Equal(0x203UL, box.Cpu.Rflags & 0xFFFF);
    }
}
