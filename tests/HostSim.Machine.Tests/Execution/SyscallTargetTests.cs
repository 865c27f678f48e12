using HekiGuest.HostSim.Cpu;
using HekiGuest.Tests.Shared;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// SYSCALL (Intel SDM vol. 2): from 64-bit code it jumps to IA32_LSTAR, from compatibility mode to
/// IA32_CSTAR; RCX gets the return address, R11 the flags, CS/SS come from IA32_STAR[47:32].
/// </summary>
public sealed class SyscallTargetTests
{
    private const ulong Lstar = 0x31000, Cstar = 0x32000;
    private const ushort Compat32Cs = 0x28;

    private static LongModeGuest SyscallGuest()
    {
        var g = new LongModeGuest();
        g.Cpu.Efer |= 1;                                                    // SCE
        g.Cpu.Lstar = Lstar;
        g.Cpu.Cstar = Cstar;
        g.Cpu.Star = (ulong)KernelCs << 32;
        g.Cpu.Sfmask = 0;
        return g;
    }

    [Fact]
    public void From_64_bit_code_the_target_is_lstar()
    {
        using var g = SyscallGuest();
        g.Emit(Code, a => a.syscall());
        g.Cpu.Rip = Code;

        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(1));

        Assert.Equal(Lstar, g.Cpu.Rip);
        Assert.Equal(Code + 2, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(64, g.Cpu.Bitness);
    }

    [Fact]
    public void From_compatibility_mode_the_target_is_cstar()
    {
        using var g = SyscallGuest();
        g.WriteU64(Gdt + Compat32Cs, 0x00CF_9A00_0000_FFFFUL);              // 32-bit code, DPL 0
        FlatLongModeGuest.Emit(g.Vm, Code, a => a.syscall(), bitness: 32);
        g.Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = Compat32Cs, Attributes = 0xC09B, Limit = 0xFFFF_FFFF });
        Assert.Equal(32, g.Cpu.Bitness);
        g.Cpu.Rip = Code;

        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(1));

        Assert.Equal(Cstar, g.Cpu.Rip);
        Assert.Equal(Code + 2, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(64, g.Cpu.Bitness);
        Assert.Equal(KernelCs, g.Cpu.Segments[Processor.CS].Selector);
    }
}
