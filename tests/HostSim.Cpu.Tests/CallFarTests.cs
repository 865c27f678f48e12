using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>CALL FAR to the same privilege level (SDM vol. 2, CALL): pushes CS and the return
/// offset at the operand size, loads CS:rIP; a non-conforming segment of another DPL is #GP(sel)
/// with nothing pushed; RETF comes back.</summary>
public sealed class CallFarTests
{
    private const ulong Gdt = 0x30000, Mem = GuestBox.DataBase;

    private static GuestBox Box(bool longMode)
    {
        var box = new GuestBox(longMode);
        box.WriteU64(Gdt + 0x08, longMode ? 0x00AF_9A00_0000_FFFFUL : 0x00CF_9A00_0000_FFFFUL);   // code DPL 0
        box.WriteU64(Gdt + 0x10, 0x00CF_9200_0000_FFFFUL);
        box.WriteU64(Gdt + 0x18, longMode ? 0x00AF_FA00_0000_FFFFUL : 0x00CF_FA00_0000_FFFFUL);   // code DPL 3
        box.WriteU64(Gdt + 0x20, 0x0000_EC00_0008_1000UL);                                         // a call gate
        box.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x2F };
        return box;
    }

    [Fact]
    public void Direct_call_far_in_32_bit_code_pushes_cs_and_eip_and_retf_returns()
    {
        using var box = Box(longMode: false);
        box.Load(a =>
        {
            a.mov(esp, 0x8000);                                      // 0x1000, 5 bytes
            a.db(0x9A); a.dd(0x1100); a.dw(0x08);                   // 0x1005: call far 0008:00001100, 7 bytes
            a.mov(ebx, 0x99);                                        // 0x100C
            a.hlt();
        }, bitness: 32);
        // the callee at 0x1100: mov ecx, [esp]; mov edx, [esp+4]; retf
        new byte[] { 0x8B, 0x0C, 0x24, 0x8B, 0x54, 0x24, 0x04, 0xCB }.CopyTo(box.Memory.Slice(0x1100, 8));
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x99UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x100CUL, box.Cpu.Gpr[Cpu.RCX]);               // pushed EIP: after the 7-byte call at 0x1005
        Assert.Equal(0x08UL, box.Cpu.Gpr[Cpu.RDX]);                  // pushed CS
        Assert.Equal(0x8000UL, box.Cpu.Gpr[Cpu.RSP]);
    }

    [Fact]
    public void Indirect_call_far_m16_64_in_64_bit_code()
    {
        using var box = Box(longMode: true);
        box.WriteU64(Mem, 0x2000);
        box.WriteU64(Mem + 8, 0x08);
        new byte[] { 0x48, 0x8B, 0x0C, 0x24, 0x48, 0x8B, 0x54, 0x24, 0x08, 0x48, 0xCB }.CopyTo(box.Memory.Slice(0x2000, 11));   // mov rcx,[rsp]; mov rdx,[rsp+8]; retfq
        box.Load(a => { a.mov(rax, Mem); a.db(0x48, 0xFF, 0x18); a.hlt(); });   // call far m16:64 [rax]
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(GuestBox.CodeBase + 10 + 3, box.Cpu.Gpr[Cpu.RCX]);
        Assert.Equal(0x08UL, box.Cpu.Gpr[Cpu.RDX]);
        Assert.Equal(GuestBox.StackTop, box.Cpu.Gpr[Cpu.RSP]);
    }

    [Fact]
    public void Call_far_to_a_non_conforming_segment_of_another_dpl_is_gp_and_pushes_nothing()
    {
        using var box = Box(longMode: false);
        box.Cpu.Gpr[Cpu.RSP] = 0x8000;
        box.WriteU64(0x8000 - 8, 0x5A5A_5A5A_5A5A_5A5AUL);
        box.Load(a => { a.db(0x9A); a.dd(0x2000); a.dw(0x1B); a.hlt(); }, bitness: 32);
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GP(0x18), box.Cpu.PendingException!.Value.Fault);
        Assert.Equal(0x8000UL, box.Cpu.Gpr[Cpu.RSP]);
        Assert.Equal(0x5A5A_5A5A_5A5A_5A5AUL, box.ReadU64(0x8000 - 8));
        Assert.Equal((ushort)0x08, box.Cpu.Segments[Cpu.CS].Selector);
    }

    [Fact]
    public void Call_far_through_a_call_gate_is_reported_unimplemented()
    {
        using var box = Box(longMode: false);
        box.Load(a => { a.db(0x9A); a.dd(0); a.dw(0x20); a.hlt(); }, bitness: 32);
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.InvalidOpcode, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(1, box.Cpu.DiagnosticsRaised);
    }
}
