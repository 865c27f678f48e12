using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// `--on-denial stop` takes effect before the next guest instruction whatever raised the denial,
/// including the delivery of an exception (a frame push the permission map refuses).
/// </summary>
public sealed class DeliveryStopTests
{
    [Fact]
    public void A_denial_while_pushing_an_exception_frame_stops_the_vm_at_once_with_exit_73()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Stop });
        g.HandlersExitWithTheirVector();
        const ulong stackPage = HekiGuestMachine.StackTop - 0x1000;
        Assert.Equal(0, g.ProtectMemory((stackPage, 1, R)));
        // #UD, whose frame push is refused; were the VM to go on, the handlers would exit with
        // their vector and a second attack (a write to the read-only page) would follow
        g.Emit(HekiGuestMachine.Code, a =>
        {
            a.ud2();
            a.mov(rbx, stackPage);
            a.mov(__qword_ptr[rbx], rax);
        });
        g.Cpu.Rip = HekiGuestMachine.Code;

        var outcome = g.Vm.Run(new RunLimits(null, 100_000));

        Assert.Equal(MachineStopKind.Denied, outcome.Kind);
        Assert.Equal(73, outcome.ExitCode);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(HekiGuestMachine.StackTop - 5 * 8, d.Gpa);            // the frame (no error code) starts there
        Assert.Null(g.Vm.DebugExit.Value);
        Assert.Equal(0L, outcome.Instructions);
    }

    [Fact]
    public void A_denial_by_an_instruction_stops_before_the_next_one()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Stop });
        g.HandlersExitWithTheirVector();
        const ulong page = 0x150000;
        Assert.Equal(0, g.ProtectMemory((page, 1, R)));
        g.Emit(HekiGuestMachine.Code, a =>
        {
            a.mov(rbx, page);
            a.mov(__qword_ptr[rbx], rax);
            a.mov(__qword_ptr[rbx + 8], rax);
        });
        g.Cpu.Rip = HekiGuestMachine.Code;

        var outcome = g.Vm.Run(new RunLimits(null, 100_000));

        Assert.Equal(MachineStopKind.Denied, outcome.Kind);
        Assert.Single(g.Events.Denials);
        Assert.Equal(1L, outcome.Instructions);
    }
}
