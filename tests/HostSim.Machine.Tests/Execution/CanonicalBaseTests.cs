using HekiGuest.HostSim.Cpu;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Addresses that must be canonical when written (SDM vol. 2, WRMSR and WRFSBASE/WRGSBASE): the
/// FS, GS and kernel GS bases, LSTAR and CSTAR. A non-canonical value is #GP(0) and changes nothing.
/// </summary>
public sealed class CanonicalBaseTests
{
    private const ulong NonCanonical = 0x0000_8000_0000_0000, Canonical = 0xFFFF_8000_0000_1000;

    [Theory]
    [InlineData(0xC000_0100u)]   // FS_BASE
    [InlineData(0xC000_0101u)]   // GS_BASE
    [InlineData(0xC000_0102u)]   // KERNEL_GS_BASE
    [InlineData(0xC000_0082u)]   // LSTAR
    [InlineData(0xC000_0083u)]   // CSTAR
    public void Wrmsr_of_a_non_canonical_address_is_gp_and_a_canonical_one_is_taken(uint msr)
    {
        using var g = new LongModeGuest();
        g.Emit(Code, a => { a.wrmsr(); a.rdmsr(); });
        g.Cpu.Gpr[Processor.RCX] = msr;
        g.Cpu.Gpr[Processor.RAX] = NonCanonical & 0xFFFF_FFFF;
        g.Cpu.Gpr[Processor.RDX] = NonCanonical >> 32;
        g.Cpu.Rip = Code;

        var fault = g.RunToException(1);
        Assert.Equal(GuestFault.GeneralProtection, fault.Fault.Vector);
        Assert.Equal(0u, fault.Fault.ErrorCode);

        g.Cpu.Gpr[Processor.RAX] = Canonical & 0xFFFF_FFFF;
        g.Cpu.Gpr[Processor.RDX] = Canonical >> 32;
        g.Cpu.Rip = Code;
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(2));
        Assert.Equal(Canonical, (g.Cpu.Gpr[Processor.RDX] << 32) | (uint)g.Cpu.Gpr[Processor.RAX]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Wrfsbase_and_wrgsbase_of_a_non_canonical_address_are_gp(bool fs)
    {
        using var g = new LongModeGuest();
        g.Cpu.Cr4 |= 1UL << 16;                                             // FSGSBASE
        g.Emit(Code, a => { if (fs) a.wrfsbase(rax); else a.wrgsbase(rax); });
        g.Cpu.Gpr[Processor.RAX] = NonCanonical;
        g.Cpu.Rip = Code;
        ulong before = g.Cpu.Segments[fs ? Processor.FS : Processor.GS].Base;

        var fault = g.RunToException(1);

        Assert.Equal(GuestFault.GeneralProtection, fault.Fault.Vector);
        Assert.Equal(before, g.Cpu.Segments[fs ? Processor.FS : Processor.GS].Base);
    }
}
