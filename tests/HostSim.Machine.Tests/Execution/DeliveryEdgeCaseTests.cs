using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Cases the random-code guest fuzzer found: a software INT 8 is no double fault, a guest that
/// only takes faults still runs out of its budget, and host peeks see user code under SMAP.
/// </summary>
public sealed class DeliveryEdgeCaseTests
{
    [Fact]
    public void Int_8_at_cpl3_through_a_dpl0_gate_is_gp_with_the_idt_error_code_not_a_triple_fault()
    {
        using var g = new LongModeGuest();
        g.Gate(8);
        g.Gate(13);
        g.HandlersExitWithTheirVector();
        g.Emit(Code, a => a.@int(8));
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x3F_0000;
        g.Cpu.Rip = Code;

        var outcome = g.Vm.Run(new RunLimits(null, 1000));

        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal(13u, g.Vm.DebugExit.Value);
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(2, chain.Count);
        Assert.Equal(8, chain[0].Vector);
        Assert.Equal(13, chain[1].Vector);
        Assert.Equal(8u * 8 + 2, chain[1].ErrorCode);                         // IDT, vector 8, EXT clear
        Assert.Equal(8u * 8 + 2, (uint)g.ReadU64(Rsp0 - 48));                  // the error code pushed on the RSP0 stack
    }

    [Fact]
    public void Int_14_at_cpl3_through_a_dpl0_gate_is_gp_too()
    {
        using var g = new LongModeGuest();
        g.Gate(13);
        g.HandlersExitWithTheirVector();
        g.Emit(Code, a => a.@int(14));
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RSP] = 0x3F_0000;
        g.Cpu.Rip = Code;

        Assert.Equal(MachineStopKind.GuestExit, g.Vm.Run(new RunLimits(null, 1000)).Kind);
        Assert.Equal(13u, g.Vm.DebugExit.Value);
    }

    [Fact]
    public void A_guest_whose_handler_faults_at_once_on_an_ist_stack_stops_at_its_budget()
    {
        using var g = new LongModeGuest();
        // #PF on IST1 with its handler on an unmapped page: each delivery succeeds, the handler's
        // first fetch faults again, nothing ever retires
        ulong lo = (0x50_0000UL & 0xFFFF) | ((ulong)KernelCs << 16) | (1UL << 32) | (0x8EUL << 40) | ((0x50_0000UL >> 16) << 48);
        g.WriteU64(Idt + 14 * 16, lo);
        g.WriteU64(Idt + 14 * 16 + 8, 0);
        g.Emit(Code, a => { a.mov(rax, 0x50_0000); a.mov(rax, __qword_ptr[rax]); });
        g.Cpu.Rip = Code;

        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(30), 5000));

        Assert.Equal(MachineStopKind.InstructionLimit, outcome.Kind);
        Assert.Equal(1L, outcome.Instructions);
        Assert.True(g.Vm.Exceptions.Delivered >= 4999, $"{g.Vm.Exceptions.Delivered} deliveries");
    }

    [Fact]
    public void Host_peeks_read_user_code_with_smap_on_and_ac_clear()
    {
        using var g = new LongModeGuest();
        const ulong user = 0x20_0000;                                          // a user 2 MiB page (PDE flags 0x87)
        BinaryPrimitives.WriteUInt64LittleEndian(g.Vm.Memory.Slice(user, 8), 0x1122_3344_5566_7788);
        g.Cpu.Cr4 |= 1UL << 21;                                                  // SMAP
        g.Cpu.Rflags &= ~(1UL << 18);
        g.Cpu.FlushTlb();

        var bytes = new byte[8];
        Assert.Equal(8, g.Vm.PeekLinear(user, bytes));
        Assert.Equal(0x1122_3344_5566_7788UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(0UL, g.ReadU64(Pd) & 0x20);                                 // and no accessed bit was set
    }
}
