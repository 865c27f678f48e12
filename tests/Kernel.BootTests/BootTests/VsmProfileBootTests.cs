using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// hostsim's policy-free Hyper-V VSM host (--profile vsm, docs/vtl.md) offers no HekiGuest
/// range, so the kernel finds no HekiGuest interface; it finds VSM instead and starts its own
/// VTL1 monitor (docs/vtl.md section 15). Every other self-test reports exactly what it reports
/// with no host interface at all (--profile none); the vtl1 group PASSes on vsm and SKIPs on none.
/// </summary>
public sealed partial class VsmProfileBootTests(ITestOutputHelper output)
{
    private const string MonitorGroup = "vtl1";
    private const int MonitorTests = 26;

    [Fact]
    public async Task The_kernel_on_the_vsm_profile_starts_its_monitor_and_otherwise_reports_what_it_reports_with_no_interface()
    {
        var request = BootRequest.Pvh("vsm-profile", KernelBoot.Deadline);
        var vsm = KernelBoot.BootAsync(GuestHosts.HostSim, request with { HostSimArguments = ["--profile", "vsm"] }, output);
        var none = KernelBoot.BootAsync(GuestHosts.HostSim, request with { Label = "vsm-profile-baseline", HostSimArguments = ["--profile", "none"] }, output);
        var (v, n) = (await vsm, await none);
        Assert.Equal(GuestExitCodes.AllPassed, v.ExitCode);
        Assert.Equal(GuestExitCodes.AllPassed, n.ExitCode);
        var (vs, ns) = (Lines(v.SerialText), Lines(n.SerialText));
        var differences = ResultSetComparison.Differences("hostsim --profile vsm", v.Transcript, "hostsim --profile none", n.Transcript)
            .Where(d => !d.StartsWith($"'{MonitorGroup}: ", StringComparison.Ordinal)).ToList();
        Assert.True(differences.Count == 0, "result sets differ:\n" + string.Join('\n', differences));
        Assert.True(v.Transcript.Results.Count >= 100, $"only {v.Transcript.Results.Count} results: the comparison would prove little");
        Assert.Contains(v.Transcript.Results, r => r.Id.Group == "heki" && r.Kind == ResultKind.Skip);

        var onVsm = v.Transcript.Results.Where(r => r.Id.Group == MonitorGroup).ToList();
        var onNone = n.Transcript.Results.Where(r => r.Id.Group == MonitorGroup).ToList();
        Assert.Equal(MonitorTests, onVsm.Count);
        Assert.All(onVsm, r => Assert.Equal(ResultKind.Pass, r.Kind));
        Assert.Equal(MonitorTests, onNone.Count);
        Assert.All(onNone, r => Assert.Equal(ResultKind.Skip, r.Kind));
        Assert.Contains("boot: mode vtl1\n", vs, StringComparison.Ordinal);
        Assert.Contains("boot: mode guest-only\n", ns, StringComparison.Ordinal);
        Assert.Contains("\nvtl1: monitor 1.0 up: ", vs, StringComparison.Ordinal);
        Assert.DoesNotContain("\nvtl1: ", ns, StringComparison.Ordinal);

        // What the host intercepts: the read of VTL1's memory, the three attacks on the memory VTL1
        // protects (a write to text through an alias, a page-table entry write, a jump into data
        // holding `mov cr4` bytes), the two fetches from the sealed section handed to VTL1, and
        // the fetch of VTL0's own WRMSR of LSTAR from data: 7 intercept events. The pinned CR4 bit
        // and the three privileged writes the policy refuses (CR0.WP, LIDT, LSTAR after end of
        // boot) are VTL calls VTL1 denies, with a #GP injected at the call's return; the W+X
        // region table at boot and the three refused mapping calls are denials answered with a
        // status only. 15 denial lines in all, each expected by the kernel.
        Assert.NotNull(v.EventsLogPath);
        var events = HostEvent.ReadLog(v.EventsLogPath!);
        var intercepts = events.Where(e => e.Event == "intercept").ToList();
        Assert.Equal(7, intercepts.Count);
        Assert.Equal(15, vs.Split("\nvtl1: denied ").Length - 1);
        Assert.Equal(1, vs.Split("\nvtl1: denied protect memory: region ").Length - 1);
        Assert.Equal(2, vs.Split("\nvtl1: denied VTL0 map of ").Length - 1);
        Assert.Equal(1, vs.Split("\nvtl1: denied VTL0 unmap of ").Length - 1);
        Assert.Contains("\nmonitor: memory protected by VTL1: text ", vs, StringComparison.Ordinal);
        Assert.DoesNotContain("\nmonitor: memory protected", ns, StringComparison.Ordinal);
        Assert.All(events.Where(e => e.Event == "inject"), e => Assert.Equal("13", e.Get("vector")));
        Assert.DoesNotContain(intercepts, e => e.Get("kind") == "msr");
        Assert.Equal(4, CallDenialLine().Matches(vs).Count);
        // VTL1 tells the two fetches from the sealed section apart with the routine table it recorded at the hand-over
        Assert.Contains("\nvtl1:   the sealed section is VTL1's: VTL0 called sealed routine 2 (privileged writes are VTL calls now)\n", vs, StringComparison.Ordinal);
        Assert.Matches(@"\nvtl1:   the sealed section is VTL1's: VTL0 jumped to 0x[0-9a-fA-F]+, not the entry of a sealed routine\n", vs);
        Assert.Matches(@"\nmonitor: sealed section 0x[0-9a-fA-F]+-0x[0-9a-fA-F]+ \(\d+ bytes, sha256 [0-9a-f]{64}\) handed to VTL1\n", vs);

        var gpa = Assert.Single(ExpectMemoryLine().Matches(vs)).Groups[1].Value;
        Assert.Equal(gpa, Assert.Single(DenialMemoryLine().Matches(vs)).Groups[1].Value);
        var memory = Assert.Single(intercepts, e => e.Get("kind") == "memory" && e.Get("access") == "read");
        Assert.Equal("read", memory.Get("access"));
        Assert.True(HostEvent.SameValue(gpa, memory.Get("gpa")!), $"memory intercept at {memory.Get("gpa")}, expected {gpa}");

        var cr4 = Assert.Single(ExpectCr4Line().Matches(vs)).Groups[1].Value;
        Assert.Equal(cr4, Assert.Single(DenialCr4Line().Matches(vs)).Groups[1].Value);

        // each write or execute the kernel expects (three on protected memory, two from the sealed
        // section, VTL0's own WRMSR): its one denial line and its one host intercept event, at the same GPA
        var protectedMemory = ExpectProtectedMemoryLine().Matches(vs);
        Assert.Equal(6, protectedMemory.Count);
        foreach (Match expected in protectedMemory)
        {
            var (access, at) = (expected.Groups[1].Value, expected.Groups[2].Value);
            Assert.Single(DenialProtectedMemoryLine().Matches(vs), d => d.Groups[1].Value == access && HostEvent.SameValue(at, d.Groups[2].Value));
            Assert.Single(intercepts, e => e.Get("kind") == "memory" && e.Get("access") == access && HostEvent.SameValue(at, e.Get("gpa")!));
        }
    }

    [Fact]
    public async Task A_monitor_image_altered_inside_the_kernel_is_refused_and_the_kernel_boots_without_it()
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);
        var artifacts = KernelArtifacts.InRepository(root);
        var kernel = await File.ReadAllBytesAsync(KernelArtifacts.Require(artifacts.KernelElf));
        var monitor = await File.ReadAllBytesAsync(KernelArtifacts.Require(Path.Combine(root, "build", "monitor", "Vtl1Monitor.stripped.elf")));
        var at = kernel.AsSpan().IndexOf(monitor);
        Assert.True(at > 0, "the monitor image is not embedded in build/kernel.elf");
        kernel[at + (monitor.Length / 2)] ^= 0x01;
        var directory = Directory.CreateTempSubdirectory("heki-tampered-monitor-");
        try
        {
            var tampered = Path.Combine(directory.FullName, "kernel.elf");
            await File.WriteAllBytesAsync(tampered, kernel);
            var host = new HostSimHost(artifacts with { KernelElf = tampered }, Path.Combine(root, "build", "hostsim", "hostsim.dll"));
            var request = BootRequest.Pvh("vsm-tampered-monitor", KernelBoot.Deadline) with { HostSimArguments = ["--profile", "vsm"] };
            var outcome = await host.BootAsync(request);
            var serial = Lines(outcome.SerialText);
            output.WriteLine(serial);
            Assert.Equal(GuestExitCodes.AllPassed, outcome.ExitCode);
            Assert.Contains("monitor: not started: the embedded monitor's SHA-256 is not the digest built into the kernel: refusing to start it\n", serial, StringComparison.Ordinal);
            Assert.Contains("boot: mode guest-only\n", serial, StringComparison.Ordinal);
            Assert.DoesNotContain("\nvtl1: ", serial, StringComparison.Ordinal);
            Assert.All(outcome.Transcript.Results.Where(r => r.Id.Group == MonitorGroup), r => Assert.Equal(ResultKind.Skip, r.Kind));
            Assert.NotNull(outcome.EventsLogPath);
            Assert.DoesNotContain(HostEvent.ReadLog(outcome.EventsLogPath!), e => e.Event == "vtl-enable");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_sealed_section_altered_before_the_hand_over_is_refused_by_vtl1_and_the_kernel_keeps_its_sealed_routines()
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);
        var artifacts = KernelArtifacts.InRepository(root);
        var kernel = await File.ReadAllBytesAsync(KernelArtifacts.Require(artifacts.KernelElf));
        // heki_sealed_write_cr0 (mov cr0, rdi; ret): sealcheck proves such bytes exist only in a
        // sealed section, and the kernel's comes before its rodata (and the monitor embedded there).
        var routine = kernel.AsSpan().IndexOf(new byte[] { 0x0F, 0x22, 0xC7, 0xC3 });
        Assert.True(routine > 0, "heki_sealed_write_cr0 not found in build/kernel.elf");
        var lastByte = (routine & ~0xFFF) + 0xFFF;     // the int3 padding at the end of the section's page
        Assert.Equal(0xCC, kernel[lastByte]);
        kernel[lastByte] = 0xCD;
        var directory = Directory.CreateTempSubdirectory("heki-tampered-sealed-");
        try
        {
            var tampered = Path.Combine(directory.FullName, "kernel.elf");
            await File.WriteAllBytesAsync(tampered, kernel);
            var host = new HostSimHost(artifacts with { KernelElf = tampered }, Path.Combine(root, "build", "hostsim", "hostsim.dll"));
            var request = BootRequest.Pvh("vsm-tampered-sealed", KernelBoot.Deadline) with { HostSimArguments = ["--profile", "vsm"] };
            var outcome = await host.BootAsync(request);
            var serial = Lines(outcome.SerialText);
            output.WriteLine(serial);
            Assert.Matches(@"\nvtl1: denied VTL0 hand-over of the sealed section 0x[0-9a-fA-F]+-0x[0-9a-fA-F]+: its SHA-256 is not the digest the build wrote into the image\n", serial);
            Assert.Matches(@"\nmonitor: sealed section 0x[0-9a-fA-F]+-0x[0-9a-fA-F]+ \(\d+ bytes, sha256 [0-9a-f]{64}\) NOT handed to VTL1: status 5; the sealed routines stay in use\n", serial);
            Assert.Contains("boot: mode vtl1\n", serial, StringComparison.Ordinal);
            // The kernel still runs: its own sealed routines do every privileged write, and only
            // self-tests of the hand-over itself fail.
            Assert.Equal(GuestExitCodes.TestFailed, outcome.ExitCode);
            Assert.All(outcome.Transcript.Results.Where(r => r.Id.Group == "sealed"), r => Assert.Equal(ResultKind.Pass, r.Kind));
            Assert.All(outcome.Transcript.Results.Where(r => r.Kind == ResultKind.Fail), r => Assert.Equal(MonitorGroup, r.Id.Group));
            Assert.Contains(outcome.Transcript.Results, r => r.Id.Group == MonitorGroup && r.Kind == ResultKind.Fail
                && r.Id.Name.StartsWith("the sealed section was handed to VTL1", StringComparison.Ordinal));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("vsm")]
    [InlineData("none")]
    public async Task The_monitor_image_booted_by_a_loader_instead_of_a_VTL_call_stops_with_its_own_report(string profile)
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);
        var artifacts = KernelArtifacts.InRepository(root);
        var monitor = KernelArtifacts.Require(Path.Combine(root, "build", "monitor", "Vtl1Monitor.elf"));
        var host = new HostSimHost(artifacts with { KernelElf = monitor }, Path.Combine(root, "build", "hostsim", "hostsim.dll"));
        var request = BootRequest.Pvh($"monitor-direct-{profile}", KernelBoot.Deadline) with { WithoutModule = true, HostSimArguments = ["--profile", profile] };
        var outcome = await host.BootAsync(request);
        var serial = Lines(outcome.SerialText);
        output.WriteLine(serial);
        Assert.Equal(GuestExitCodes.Panic, outcome.ExitCode);
        Assert.Matches(@"^(\n)?vtl1: not started by a VTL0 init call \(EAX=0x[0-9A-Fa-f]+\): the monitor runs only in VTL1, started by the kernel\n$", serial);
    }

    /// <summary>The serial text with the port's CR LF line ends as LF.</summary>
    private static string Lines(string serial) => serial.Replace("\r\n", "\n", StringComparison.Ordinal);

    [GeneratedRegex(@"\n  monitor: expect intercept kind=memory access=read gpa=(0x[0-9A-Fa-f]+)\n")]
    private static partial Regex ExpectMemoryLine();

    [GeneratedRegex(@"\nvtl1: denied VTL0 read of gpa=(0x[0-9A-Fa-f]+) gva=0x[0-9A-Fa-f]+ at rip=0x[0-9A-Fa-f]+: #GP\(0\) injected\n")]
    private static partial Regex DenialMemoryLine();

    [GeneratedRegex(@"\n  monitor: expect intercept kind=memory access=(write|execute) gpa=(0x[0-9A-Fa-f]+)\n")]
    private static partial Regex ExpectProtectedMemoryLine();

    [GeneratedRegex(@"\nvtl1: denied VTL0 (write|execute) of gpa=(0x[0-9A-Fa-f]+) gva=0x[0-9A-Fa-f]+ at rip=0x[0-9A-Fa-f]+: #GP\(0\) injected\n")]
    private static partial Regex DenialProtectedMemoryLine();

    [GeneratedRegex(@"\nvtl1: denied VTL0 [^\n]* through a VTL call \([^\n]*\): #GP\(0\) injected\n")]
    private static partial Regex CallDenialLine();

    [GeneratedRegex(@"\n  monitor: expect call denial register=CR4 value=(0x[0-9A-Fa-f]+)\n")]
    private static partial Regex ExpectCr4Line();

    [GeneratedRegex(@"\nvtl1: denied VTL0 write of CR4=(0x[0-9A-Fa-f]+) through a VTL call \(pinned bits\): #GP\(0\) injected\n")]
    private static partial Regex DenialCr4Line();
}
