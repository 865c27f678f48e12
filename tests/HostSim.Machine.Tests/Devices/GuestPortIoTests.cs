using System.Text;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Tests.Execution;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>The devices of a <see cref="VirtualMachine"/> driven by real IN/OUT instructions in a guest.</summary>
public sealed class GuestPortIoTests
{
    [Fact]
    public void Guest_in_and_out_reach_the_uart_the_empty_bus_and_debug_exit()
    {
        using var g = new LongModeGuest();
        g.Emit(LongModeGuest.Code, a =>
        {
            a.mov(dx, 0x3F8);
            a.mov(al, (byte)'O'); a.@out(dx, al);
            a.mov(al, (byte)'K'); a.@out(dx, al);
            a.mov(dx, 0x3FD); a.@in(al, dx); a.movzx(r8d, al);                   // LSR
            a.mov(dx, 0x3FF); a.mov(al, 0xA5); a.@out(dx, al);                    // scratch
            a.xor(eax, eax); a.@in(al, dx); a.movzx(r9d, al);
            a.mov(dx, 0x3FB); a.mov(al, 0x83); a.@out(dx, al);                    // DLAB on
            a.mov(dx, 0x3F8); a.mov(al, 0x0C); a.@out(dx, al);                    // DLL, not a byte on the line
            a.mov(dx, 0x3FB); a.mov(al, 0x03); a.@out(dx, al);                    // DLAB off
            a.mov(dx, 0x3F8); a.mov(al, (byte)'!'); a.@out(dx, al);
            a.mov(rax, -1L); a.@in(al, 0x80); a.mov(r10, rax);                    // unmodelled, byte
            a.xor(eax, eax); a.@in(ax, 0x80); a.mov(r11, rax);                    // word
            a.xor(eax, eax); a.mov(dx, 0x84); a.@in(eax, dx); a.mov(r12, rax);    // dword
            a.mov(dx, 0x84); a.mov(eax, 0x12345678); a.@out(dx, eax);             // ignored
            a.mov(al, 0x2A); a.@out(0xF4, al);
            a.hlt();
        });

        var outcome = g.Vm.Run(new RunLimits(null, 1000));

        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal((0x2A << 1) | 1, outcome.ExitCode);
        Assert.Equal("OK!", Encoding.ASCII.GetString([.. g.Serial]));
        Assert.Equal(0x60UL, g.Cpu.Gpr[8] & 0x61);          // LSR: THRE, TEMT, no data (r8..r12 = GPR 8..12)
        Assert.Equal(0xA5UL, g.Cpu.Gpr[9]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, g.Cpu.Gpr[10]);          // IN AL keeps RAX[63:8]
        Assert.Equal(0xFFFFUL, g.Cpu.Gpr[11]);
        Assert.Equal(0xFFFF_FFFFUL, g.Cpu.Gpr[12]);
        Assert.Equal(new ushort[] { 0x80, 0x84 }, g.Vm.Ports.UnmodelledPorts.Order());
        Assert.Equal(0x2Au, g.Vm.DebugExit.Value);
        Assert.Equal(3, g.Vm.Serial.BytesTransmitted);
    }

    [Fact]
    public void Debug_exit_stops_the_cpu_right_after_the_write()
    {
        using var g = new LongModeGuest();
        g.Emit(LongModeGuest.Code, a =>
        {
            a.mov(al, 1); a.@out(0xF4, al);
            a.mov(al, 2); a.@out(0xF4, al);
            a.hlt();
        });
        var first = g.Vm.Run(new RunLimits(null, 1000));
        Assert.Equal(MachineStopKind.GuestExit, first.Kind);
        Assert.Equal(3, first.ExitCode);
        Assert.Equal(2, first.Instructions);
        Assert.Equal(LongModeGuest.Code + 4, g.Cpu.Rip);                          // after mov al,1; out 0xF4,al
    }
}
