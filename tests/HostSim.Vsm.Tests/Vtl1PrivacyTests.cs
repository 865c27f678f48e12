using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Reporting;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 13: VTL1 stays private from the host's own inspection paths
/// (--trace, crash reports, host peeks) unless the VM was started with the opt-in.</summary>
public sealed class Vtl1PrivacyTests
{
    private const ulong Secret = 0x44000;

    private sealed class RecordingTrace : ITraceSink
    {
        public List<ulong> Rips { get; } = [];
        public List<string> Events { get; } = [];

        public void Instruction(long index, ulong rip, int cpl, int bitness, ReadOnlySpan<byte> bytes) => Rips.Add(rip);

        public void Event(string kind, IReadOnlyDictionary<string, object> fields) => Events.Add(kind);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Vtl1s_instructions_are_traced_only_with_the_opt_in(bool showVtl1)
    {
        using var g = new VsmGuestMachine(showVtl1);
        var trace = new RecordingTrace();
        var s = Vtl1Session.Start(g, a => a.nop());
        g.Vm.Trace = trace;
        s.Answer(a => a.nop());
        Assert.Equal(0, g.Host.CurrentVtl);
        bool vtl1Traced = trace.Rips.Any(r => r >= Vtl1Session.Snippet && r < Vtl1Session.Snippet + 0x100);
        Assert.Equal(showVtl1, vtl1Traced);
        Assert.Contains(trace.Rips, r => r >= VsmGuestMachine.Code && r < VsmGuestMachine.Code + 0x100);   // VTL0 is traced either way
        Assert.Equal(showVtl1, g.Vm.InspectionFilter is null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pages_vtl1_hid_from_vtl0_are_unreadable_to_host_peeks_unless_opted_in(bool showVtl1)
    {
        using var g = new VsmGuestMachine(showVtl1);
        g.WriteU64(Secret, 0x5EC2E7);
        var s = Vtl1Session.Start(g, _ => { });
        s.Protect(HvMapGpa.None, Secret >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        Span<byte> bytes = stackalloc byte[8];
        Assert.Equal(showVtl1 ? 8 : 0, g.Vm.PeekLinear(Secret, bytes));
        Assert.Equal(8, g.Vm.PeekLinear(Secret + 0x1000, bytes));   // a VTL0 page next to it
        // a read spanning into the hidden page stops at its start
        Assert.Equal(showVtl1 ? 8 : 4, g.Vm.PeekLinear(Secret - 4, bytes));
    }

    [Fact]
    public void A_crash_report_in_vtl1_shows_no_registers_and_says_what_it_hides()
    {
        using var g = new VsmGuestMachine();
        g.Cpu.Gpr[15] = 0x1234_5678_9ABC;
        Vtl1Session.Start(g, _ => { });
        Assert.Equal(1, g.Host.CurrentVtl);
        string report = CrashReport.Format(g.Vm, new MachineOutcome(MachineStopKind.TripleFault, 70, "triple fault", 1, TimeSpan.Zero), SymbolMap.Empty, g.Vm.RecentInstructions());
        Assert.Contains("--show-vtl1", report);
        Assert.DoesNotContain("R15", report);
        Assert.DoesNotContain("123456789abc", report);

        using var shown = new VsmGuestMachine(showVtl1: true);
        shown.Cpu.Gpr[15] = 0x1234_5678_9ABC;
        Vtl1Session.Start(shown, _ => { });
        string full = CrashReport.Format(shown.Vm, new MachineOutcome(MachineStopKind.TripleFault, 70, "triple fault", 1, TimeSpan.Zero), SymbolMap.Empty, shown.Vm.RecentInstructions());
        Assert.Contains("123456789abc", full);
    }

    [Fact]
    public void Vm_reset_destroys_vtl1_and_returns_the_vp_to_vtl0_through_the_machine()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Assert.Equal(1, g.Host.CurrentVtl);
        g.Host.Reset();
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.False(g.Host.Partition.IsEnabled(1));
        Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
        Assert.Equal(0UL, g.Host.Msrs.HypercallMsr(0));
        Assert.Equal(0UL, g.Host.Msrs.HypercallMsr(1));
        Assert.Equal(0UL, g.Host.Msrs.VpAssistPageMsr(1));
        _ = r15;
    }
}
