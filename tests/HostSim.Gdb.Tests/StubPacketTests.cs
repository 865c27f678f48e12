using System.Xml.Linq;
using HekiGuest.HostSim.Gdb.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;

namespace HekiGuest.HostSim.Gdb.Tests;

/// <summary>Each packet against a small guest on an in-process VM (docs/vmm.md section 6).</summary>
public sealed class StubPacketTests
{
    [Fact]
    public void QSupported_advertises_the_features_and_the_stop_is_at_the_first_instruction()
    {
        using var rig = new StubRig();
        string supported = rig.Ask("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+");
        foreach (var feature in new[] { "PacketSize=4000", "qXfer:features:read+", "swbreak+", "hwbreak+" }) Assert.Contains(feature, supported);
        Assert.StartsWith("T05", rig.Ask("?"));
        Assert.Equal(StubRig.Code, rig.Rip);
        Assert.Equal("1", rig.Ask("qAttached"));
        Assert.Equal("QC01", rig.Ask("qC"));
        Assert.Equal("m01", rig.Ask("qfThreadInfo"));
        Assert.Equal("l", rig.Ask("qsThreadInfo"));
        Assert.Equal("OK", rig.Ask("Hg0"));
        Assert.Equal("vCont;c;C;s;S", rig.Ask("vCont?"));
    }

    [Fact]
    public void Unknown_and_malformed_packets_get_empty_or_error_replies()
    {
        using var rig = new StubRig();
        Assert.Equal("", rig.Ask("qNoSuchThing"));
        Assert.Equal("", rig.Ask("!"));
        Assert.Equal("", rig.Ask("vMustReplyEmpty"));
        Assert.Equal("E01", rig.Ask("mzz,4"));
        Assert.Equal("E01", rig.Ask("m100000"));
        Assert.Equal("E01", rig.Ask("M100000,2:0g"));
        Assert.Equal("E01", rig.Ask("M100000,2:00"));   // length and data disagree
        Assert.Equal("E01", rig.Ask("Pzz=00"));
        Assert.Equal("E00", rig.Ask("p999"));
        Assert.Equal("E01", rig.Ask("Z0,xyz,1"));
        Assert.Equal("", rig.Ask("Z9,100000,1"));
        Assert.StartsWith("T05", rig.Ask("?")); // still stopped, state kept
        Assert.Equal(StubRig.Code, rig.Rip);
    }

    [Fact]
    public void The_target_description_is_x86_64_with_control_registers_and_efer()
    {
        using var rig = new StubRig();
        var xml = new System.Text.StringBuilder();
        ulong offset = 0;
        while (true)
        {
            string part = rig.Ask($"qXfer:features:read:target.xml:{offset:x},200");
            Assert.True(RspCodec.TryUnescapeBinary(part.AsSpan(1), out var bytes));
            xml.Append(System.Text.Encoding.UTF8.GetString(bytes));
            offset += (ulong)bytes.Length;
            if (part[0] == 'l') break;
            Assert.Equal('m', part[0]);
        }
        var doc = XDocument.Parse(xml.ToString());
        Assert.Equal("i386:x86-64", doc.Root!.Element("architecture")!.Value);
        var features = doc.Root.Elements("feature").Select(f => (string)f.Attribute("name")!).ToList();
        Assert.Contains("org.gnu.gdb.i386.core", features);
        Assert.Contains("org.gnu.gdb.i386.sse", features);
        Assert.Contains("org.gnu.gdb.i386.segments", features);
        var regs = doc.Descendants("reg").Select(r => (string)r.Attribute("name")!).ToList();
        foreach (var name in new[] { "rax", "r15", "rip", "eflags", "cs", "gs", "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer" }) Assert.Contains(name, regs);
        Assert.Equal("E00", rig.Ask("qXfer:features:read:other.xml:0,10"));
    }

    [Fact]
    public void Registers_read_and_write()
    {
        using var rig = new StubRig();
        string all = rig.Ask("g");
        int expected = GdbTargetDescription.Registers.Sum(r => r.Bytes * 2);
        Assert.Equal(expected, all.Length);
        Assert.Equal(StubRig.Code, rig.Rip);
        Assert.Equal(rig.Vm.Cpu.Cr4, rig.Register("cr4"));
        Assert.Equal(rig.Vm.Cpu.Cr3, rig.Register("cr3"));
        Assert.Equal(rig.Vm.Cpu.Efer, rig.Register("efer"));
        Assert.Equal(0x8UL, rig.Register("cs"));
        // rbx = 0x1122334455667788 through P, then read back through p and g
        int rbx = GdbTargetDescription.Find("rbx")!.Number;
        Assert.Equal("OK", rig.Ask($"P{rbx:x}=8877665544332211"));
        Assert.Equal(0x1122334455667788UL, rig.Register("rbx"));
        Assert.Equal("8877665544332211", rig.Ask("g").Substring(16, 16));
        // control registers are not writable through gdb: pins and filters are host policy
        int cr4 = GdbTargetDescription.Find("cr4")!.Number;
        ulong before = rig.Vm.Cpu.Cr4;
        Assert.Equal("E01", rig.Ask($"P{cr4:x}=0000000000000000"));
        Assert.Equal(before, rig.Vm.Cpu.Cr4);
        // G with everything as read, only rax changed
        var g = rig.Ask("g").ToCharArray();
        "efbeadde00000000".CopyTo(0, g, 0, 16);
        Assert.Equal("OK", rig.Ask("G" + new string(g)));
        Assert.Equal(0xDEADBEEFUL, rig.Register("rax"));
    }

    [Fact]
    public void Memory_reads_through_the_page_tables_without_setting_accessed_bits()
    {
        using var rig = new StubRig();
        FlatLongModeGuest.WriteU64(rig.Vm, 0x3008, 0x200083 & ~0x20UL); // A clear on the data page's PDE
        Assert.Equal("31c0", rig.Ask($"m{StubRig.Code:x},2")); // xor eax, eax
        Assert.Equal("E14", rig.Ask($"m{StubRig.Unmapped:x},8"));
        Assert.Equal("OK", rig.Ask($"M{StubRig.Data + 8:x},4:44332211"));
        Assert.Equal("44332211", rig.Ask($"m{StubRig.Data + 8:x},4"));
        Assert.Equal("OK", rig.Ask($"X{StubRig.Data + 16:x},2:}}\u0003a")); // '}' escapes 0x23
        Assert.Equal("2361", rig.Ask($"m{StubRig.Data + 16:x},2"));
        Assert.Equal("E14", rig.Ask($"M{StubRig.Unmapped:x},1:00"));
        Assert.Equal(0UL, FlatLongModeGuest.ReadU64(rig.Vm, 0x3008) & 0x60); // no A/D from the debugger's walks
    }

    [Fact]
    public void A_software_breakpoint_stops_before_the_instruction_without_touching_guest_memory()
    {
        using var rig = new StubRig();
        string codeBefore = rig.Ask($"m{StubRig.Code:x},40");
        Assert.Equal("OK", rig.Ask($"Z0,{rig.Load:x},1"));
        Assert.Equal(codeBefore, rig.Ask($"m{StubRig.Code:x},40")); // no 0xCC anywhere
        Assert.Equal("T05thread:01;swbreak:;", rig.Resume());
        Assert.Equal(rig.Load, rig.Rip);
        Assert.Equal(1UL, rig.Register("rax"));
        Assert.Equal("T05thread:01;swbreak:;", rig.Resume()); // continues past it, hits it on the next iteration
        Assert.Equal(2UL, rig.Register("rax"));
        Assert.Equal("OK", rig.Ask($"z0,{rig.Load:x},1"));
        Assert.Equal(0x400UL, rig.Vm.Cpu.Dr[7]); // the guest's debug registers saw nothing
        rig.Stub.Received("c");
        var outcome = rig.WaitForEnd();
        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        rig.Stub.Finished(outcome.ExitCode); // what hostsim run does when the run ends
        Assert.Equal("W01", rig.Channel.Next());
    }

    [Fact]
    public void A_hardware_breakpoint_reports_hwbreak_and_the_four_slots_run_out()
    {
        using var rig = new StubRig();
        Assert.Equal("OK", rig.Ask($"Z1,{rig.Compare:x},1"));
        Assert.Equal("T05thread:01;hwbreak:;", rig.Resume());
        Assert.Equal(rig.Compare, rig.Rip);
        Assert.Equal("OK", rig.Ask($"Z2,{StubRig.Data + 0x100:x},8"));
        Assert.Equal("OK", rig.Ask($"Z2,{StubRig.Data + 0x108:x},8"));
        Assert.Equal("OK", rig.Ask($"Z1,{rig.Exit:x},1"));
        Assert.Equal("E28", rig.Ask($"Z2,{StubRig.Data + 0x110:x},8"));
    }

    [Fact]
    public void Watchpoints_stop_after_the_access_and_name_the_address()
    {
        using var rig = new StubRig();
        Assert.Equal("OK", rig.Ask($"Z2,{StubRig.Data:x},8"));
        Assert.Equal($"T05thread:01;watch:{StubRig.Data:x};", rig.Resume());
        Assert.Equal(rig.Load, rig.Rip);           // trap: the store completed
        Assert.Equal("0100000000000000", rig.Ask($"m{StubRig.Data:x},8"));
        Assert.Equal("OK", rig.Ask($"z2,{StubRig.Data:x},8"));
        // a read watchpoint ignores the store and stops on the load
        Assert.Equal("OK", rig.Ask($"Z3,{StubRig.Data + 8:x},8"));
        Assert.Equal($"T05thread:01;rwatch:{StubRig.Data + 8:x};", rig.Resume());
        Assert.Equal(rig.Compare, rig.Rip);
        Assert.Equal("OK", rig.Ask($"z3,{StubRig.Data + 8:x},8"));
        // an access watchpoint on the stored value, unaligned 4 bytes (split in slots)
        Assert.Equal("OK", rig.Ask($"Z4,{StubRig.Data + 3:x},4"));
        Assert.Equal($"T05thread:01;awatch:{StubRig.Data + 3:x};", rig.Resume());
        Assert.Equal(0x400UL, rig.Vm.Cpu.Dr[7]);
        Assert.Equal(0UL, rig.Vm.Cpu.Dr[0]);
    }

    [Fact]
    public void Single_step_runs_one_instruction()
    {
        using var rig = new StubRig();
        Assert.Equal("T05thread:01;", rig.Resume("s"));
        Assert.Equal(rig.Loop, rig.Rip);
        Assert.Equal("T05thread:01;", rig.Resume("vCont;s:1"));
        Assert.Equal(rig.Store, rig.Rip);
        Assert.Equal(1UL, rig.Register("rax"));
        Assert.Equal("T05thread:01;", rig.Resume("s"));
        Assert.Equal(rig.Load, rig.Rip);
        Assert.Equal(3, rig.Stub.Steps);
    }

    [Fact]
    public void Ctrl_c_stops_a_running_guest_with_sigint()
    {
        using var rig = new StubRig(iterations: long.MaxValue);
        rig.Stub.Received("vCont;c");
        Thread.Sleep(200);
        Assert.Empty(rig.Channel.Sent);
        rig.Stub.InterruptRequested();
        Assert.Equal("T02thread:01;", rig.Channel.Next());
        ulong rax = rig.Register("rax");
        Assert.True(rax > 0, "the guest ran");
        Assert.StartsWith("T02", rig.Ask("?"));
    }

    [Fact]
    public void Kill_ends_the_run_cleanly()
    {
        using var rig = new StubRig(iterations: long.MaxValue);
        rig.Stub.Received("k");
        var outcome = rig.WaitForEnd();
        Assert.Equal(MachineStopKind.HostQuit, outcome.Kind);
        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public void Detach_and_disconnect_leave_the_guest_running_free_of_breakpoints()
    {
        using (var rig = new StubRig())
        {
            Assert.Equal("OK", rig.Ask($"Z0,{rig.Load:x},1"));
            Assert.Equal("OK", rig.Ask("D"));
            Assert.Equal(MachineStopKind.GuestExit, rig.WaitForEnd().Kind);
        }
        using (var rig = new StubRig())
        {
            Assert.Equal("OK", rig.Ask($"Z0,{rig.Load:x},1"));
            Assert.Equal("OK", rig.Ask($"Z2,{StubRig.Data:x},8"));
            Assert.StartsWith("T05", rig.Resume());
            rig.Stub.ClientGone(rig.Channel);
            Assert.Equal(MachineStopKind.GuestExit, rig.WaitForEnd().Kind);
            Assert.Empty(rig.Vm.Cpu.HostBreakpoints);
            Assert.Equal(0u, rig.Vm.Cpu.HostWatchpoints.DataMask);
        }
    }

    [Fact]
    public void A_new_gdb_can_attach_after_one_went_away()
    {
        using var rig = new StubRig(iterations: long.MaxValue);
        Assert.Equal("OK", rig.Ask($"Z0,{rig.Load:x},1"));
        Assert.StartsWith("T05", rig.Resume());
        rig.Stub.ClientGone(rig.Channel);
        Thread.Sleep(100); // running, nobody attached, the breakpoint gone with its gdb
        var second = new RecordingChannel();
        rig.Stub.ClientConnected(second);
        rig.Stub.Received("?");
        Assert.StartsWith("T05", second.Next());
        rig.Stub.Received($"p{GdbTargetDescription.Find("rax")!.Number:x}");
        string rax = second.Next();
        ulong value = BitConverter.ToUInt64(Convert.FromHexString(rax));
        Assert.True(value > 1, $"the guest ran on past the old breakpoint (rax {value})");
    }

    [Fact]
    public void A_gdb_attaching_while_the_vm_is_stopped_is_served_by_that_stop()
    {
        // regression: the attach used to stay pending, and the VM stopped again, silently, right after `c`
        using var rig = new StubRig();
        Assert.StartsWith("T05", rig.Ask("?")); // parked at the first instruction
        var second = new RecordingChannel();
        rig.Stub.ClientConnected(second);
        rig.Stub.Received("c");
        Assert.Equal(MachineStopKind.GuestExit, rig.WaitForEnd().Kind);
    }

    [Fact]
    public void Monitor_commands_answer_and_refuse_what_is_not_there()
    {
        using var rig = new StubRig();
        rig.Resume("s");
        rig.Resume("s");
        string Monitor(string command) => System.Text.Encoding.UTF8.GetString(Convert.FromHexString(rig.Ask("qRcmd," + RspCodec.Hex(command))));
        Assert.Contains("last [N]", Monitor("help"));
        string last = Monitor("last 2");
        Assert.Contains("xor", last);
        Assert.Contains("inc", last);
        Assert.Contains("rip", Monitor("registers"));
        Assert.Contains("VTLs need --profile vsm", Monitor("vtl 1"));
        Assert.Contains("not available in this run", Monitor("pins")); // no QMP handlers in this rig
        Assert.Contains("unknown monitor command", Monitor("frobnicate"));
        Assert.Equal("E01", rig.Ask("qRcmd,zz"));
    }
}
