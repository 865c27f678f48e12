using HekiGuest.HostSim.Gdb.Tests.Support;
using HekiGuest.HostSim.Vsm;
using HekiGuest.Tests.Shared;

namespace HekiGuest.HostSim.Gdb.Tests;

/// <summary>gdb sees VTL0 unless the VM has the VTL1 debug opt-in, and stops only in the VTL it shows.</summary>
public sealed class VtlPrivacyTests
{
    private static string Monitor(StubRig rig, string command) =>
        System.Text.Encoding.UTF8.GetString(Convert.FromHexString(rig.Ask("qRcmd," + RspCodec.Hex(command))));

    [Fact]
    public void Vtl1_cannot_be_selected_without_the_opt_in()
    {
        var view = new FakeVtlView(optIn: false) { Vtl1 = new VtlPrivateState { Rip = 0x1234 } };
        using var rig = new StubRig(vtl: view);
        Assert.Contains("VTL1 is private: start hostsim with --show-vtl1", Monitor(rig, "vtl 1"));
        Assert.Equal(0, rig.Machine.SelectedVtl);
        Assert.Equal(StubRig.Code, rig.Rip);
        Assert.Contains("gdb shows VTL 0", Monitor(rig, "vtl"));
    }

    [Fact]
    public void Breakpoints_and_ctrl_c_wait_while_the_vcpu_runs_a_vtl_gdb_does_not_show()
    {
        var view = new FakeVtlView(optIn: false);
        using var rig = new StubRig(iterations: long.MaxValue, vtl: view);
        Assert.Equal("OK", rig.Ask($"Z0,{rig.Load:x},1"));
        view.CurrentVtl = 1; // as if the guest were in VTL1 now
        rig.Stub.Received("c");
        Thread.Sleep(300);
        rig.Stub.InterruptRequested();
        Thread.Sleep(300);
        Assert.Empty(rig.Channel.Sent); // passed over: no stop while VTL1 runs
        view.CurrentVtl = 0;
        string stop = rig.Channel.Next();
        Assert.True(stop is "T02thread:01;" or "T05thread:01;swbreak:;", stop);
        Assert.True(rig.Register("rax") > 1, "the guest ran through the breakpoint while in the hidden VTL");
    }

    [Fact]
    public void With_the_opt_in_vtl1_shows_its_saved_registers_and_its_own_page_tables()
    {
        // VTL1's page tables: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 maps linear 0 to physical 0x200000
        var rigView = new FakeVtlView(optIn: true);
        using var rig = new StubRig(vtl: rigView);
        FlatLongModeGuest.WriteU64(rig.Vm, 0x10000, 0x11003);
        FlatLongModeGuest.WriteU64(rig.Vm, 0x11000, 0x12003);
        FlatLongModeGuest.WriteU64(rig.Vm, 0x12000, 0x200083);
        FlatLongModeGuest.WriteU64(rig.Vm, 0x200040, 0x1122334455667788);
        var cpu = rig.Vm.Cpu;
        rigView.Vtl1 = new VtlPrivateState { Rip = 0xFEED, Rsp = 0x8000, Rflags = 0x2, Cr0 = cpu.Cr0, Cr3 = 0x10000, Cr4 = cpu.Cr4, Efer = cpu.Efer };
        cpu.Segments.CopyTo(rigView.Vtl1.Segments, 0);
        Assert.Contains("gdb shows VTL 1 (not running", Monitor(rig, "vtl 1"));
        Assert.Equal(0xFEEDUL, rig.Rip);
        Assert.Equal(0x10000UL, rig.Register("cr3"));
        Assert.Equal("8877665544332211", rig.Ask("m40,8"));        // through VTL1's CR3
        Assert.Equal("E01", rig.Ask($"P{GdbTargetDescription.Find("rip")!.Number:x}=0000000000000000")); // not running: read-only
        Assert.Equal(0x1000UL, cpu.Cr3);                              // the CPU's own paging untouched
        Assert.Contains("gdb shows VTL 0 (running now)", Monitor(rig, "vtl 0"));
        Assert.Equal("0000000000000000", rig.Ask("m40,8")); // linear 0x40 through VTL0's identity map: physical 0x40
    }

    [Fact]
    public void Pages_hidden_from_the_host_read_and_write_as_unmapped()
    {
        using var rig = new StubRig();
        rig.Vm.InspectionFilter = new HidePage(StubRig.Data);
        Assert.Equal("E14", rig.Ask($"m{StubRig.Data:x},8"));
        Assert.Equal("E14", rig.Ask($"M{StubRig.Data:x},1:ff"));
        Assert.Equal(0UL, FlatLongModeGuest.ReadU64(rig.Vm, StubRig.Data));
        Assert.Equal("31c0", rig.Ask($"m{StubRig.Code:x},2")); // other pages still read
    }
}
