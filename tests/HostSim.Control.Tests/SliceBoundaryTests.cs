using System.Diagnostics;
using HekiGuest.HostSim.Control.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>The machine's side of host control: <see cref="VirtualMachine.SliceBoundary"/> runs
/// between instructions, <see cref="VirtualMachine.Interrupt"/> brings it early from another
/// thread, and time the host holds the VM there does not count against the run's timeout.</summary>
public sealed class SliceBoundaryTests
{
    private static VirtualMachine Spinning()
    {
        var vm = new VirtualMachine(16UL << 20, _ => { });
        vm.Boot(Guests.Spins(), "", [], BootProtocol.Auto);
        return vm;
    }

    [Fact]
    public void Time_held_at_a_slice_boundary_does_not_count_against_the_timeout()
    {
        using var vm = Spinning();
        int calls = 0;
        vm.SliceBoundary = () => { if (++calls == 2) Thread.Sleep(1200); };
        var clock = Stopwatch.StartNew();
        var outcome = vm.Run(new RunLimits(TimeSpan.FromMilliseconds(400), null));
        Assert.Equal(MachineStopKind.Timeout, outcome.Kind);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1550), $"the run ended after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(outcome.Elapsed < TimeSpan.FromMilliseconds(1200), $"the outcome counts {outcome.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void A_host_stop_requested_at_a_boundary_ends_the_run_before_the_next_instruction()
    {
        using var vm = Spinning();
        long retiredAtStop = -1;
        int calls = 0;
        vm.SliceBoundary = () =>
        {
            if (++calls < 3) return;
            retiredAtStop = vm.Cpu.InstructionsRetired;
            vm.RequestHostStop(MachineStopKind.HostQuit, MachineOutcome.ExitHostQuit, "test quit");
        };
        var outcome = vm.Run(new RunLimits(TimeSpan.FromSeconds(30), null));
        Assert.Equal(MachineStopKind.HostQuit, outcome.Kind);
        Assert.Equal(0, outcome.ExitCode);
        Assert.False(outcome.IsCrash);
        Assert.Equal(retiredAtStop, vm.Cpu.InstructionsRetired);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Interrupt_ends_the_next_slice_within_a_few_blocks(bool withTimeout)
    {
        // Interrupt is a volatile write any thread may make; made from the boundary itself (after
        // the machine restored the slice's deadline) the test does not depend on thread timing
        using var vm = Spinning();
        var retired = new List<long>();
        vm.SliceBoundary = () =>
        {
            retired.Add(vm.Cpu.InstructionsRetired);
            if (retired.Count == 1) { Thread.Sleep(20); vm.Interrupt(); }
            else vm.RequestHostStop(MachineStopKind.HostQuit, 0, "done");
        };
        vm.Run(new RunLimits(withTimeout ? TimeSpan.FromSeconds(30) : null, null));
        Assert.Equal(2, retired.Count);
        // the spin loop's blocks are 2 instructions and the deadline is checked every 64 blocks;
        // an uninterrupted slice is 2^20 instructions
        Assert.InRange(retired[1] - retired[0], 1, 2 * Cpu.Cpu.DeadlineCheckBlocks + 2);
    }
}
