namespace HekiGuest.Tests.Boot;

/// <summary>The QEMU host and the deadline runner, driven through a fake qemu script.</summary>
public sealed class QemuHostRunnerTests : IDisposable
{
    private const string PassingTranscript = """
        HekiGuest kernel
        PASS: runtime: string concat
        PASS: boot: command line received
        SUMMARY: 2 tests

        """;

    private readonly TempDirectory directory = new();
    private readonly KernelArtifacts artifacts;

    public QemuHostRunnerTests() => artifacts = FakeQemu.CreateArtifacts(directory);

    public void Dispose() => directory.Dispose();

    [Fact]
    public async Task PassingBootReturnsExitCodeAndTranscript()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);
        var expected = ExpectedTests.Parse("runtime: string concat\nboot: command line received\n", "test");

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("pass", TimeSpan.FromSeconds(20)));

        Assert.False(outcome.TimedOut);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal(2, outcome.Transcript.Results.Count);
        Assert.Empty(BootDiagnosis.Diagnose(outcome, expected));
        Assert.True(File.Exists(outcome.SerialLogPath));
        Assert.Equal(PassingTranscript, File.ReadAllText(outcome.SerialLogPath!));
    }

    [Fact]
    public async Task PvhBootPassesTheContractArguments()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);

        var outcome = await fake.Host(artifacts, directory)
            .BootAsync(BootRequest.Pvh("args", TimeSpan.FromSeconds(20), "tests=runtime,boot"));

        var arguments = fake.RecordedArguments();
        Assert.Equal(
            [
                "-machine", "q35", "-cpu", "max", "-m", "128M", "-accel", "tcg", "-display", "none", "-no-reboot",
                "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "file:" + outcome.SerialLogPath,
                "-kernel", artifacts.KernelElf, "-initrd", artifacts.TestModule, "-append", "modules=1 mem=128 tests=runtime,boot",
            ],
            arguments);
        Assert.Contains("'modules=1 mem=128 tests=runtime,boot'", outcome.Invocation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PvhBootWithoutModuleLeavesOutInitrd()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);
        File.Delete(artifacts.TestModule);

        await fake.Host(artifacts, directory)
            .BootAsync(BootRequest.Pvh("no-module", TimeSpan.FromSeconds(20)) with { WithoutModule = true });

        var arguments = fake.RecordedArguments();
        Assert.DoesNotContain("-initrd", arguments);
        Assert.Equal(["-kernel", artifacts.KernelElf, "-append", "modules=1 mem=128"], arguments.TakeLast(4));
    }

    [Fact]
    public async Task IsoBootUsesTheCdromAndKvmOnlyWhenAsked()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);

        await fake.Host(artifacts, directory, QemuAccelerator.Kvm).BootAsync(BootRequest.Iso("iso", TimeSpan.FromSeconds(20)));

        var arguments = fake.RecordedArguments();
        Assert.Equal("kvm", arguments[arguments.ToList().IndexOf("-accel") + 1]);
        Assert.Equal(["-cdrom", artifacts.Iso, "-boot", "d"], arguments.TakeLast(4));
        Assert.DoesNotContain("-kernel", arguments);
        Assert.DoesNotContain("-append", arguments);
    }

    [Fact]
    public async Task IsoOlderThanTheKernelIsPointedOut()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);
        var host = fake.Host(artifacts, directory);
        File.SetLastWriteTimeUtc(artifacts.Iso, DateTime.UtcNow.AddMinutes(-5));

        var stale = await host.BootAsync(BootRequest.Iso("iso-stale", TimeSpan.FromSeconds(20)));
        File.SetLastWriteTimeUtc(artifacts.Iso, DateTime.UtcNow.AddMinutes(5));
        var fresh = await host.BootAsync(BootRequest.Iso("iso-fresh", TimeSpan.FromSeconds(20)));

        Assert.Contains("hekiguest.iso is older than", stale.HostDiagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain("older than", fresh.HostDiagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangIsKilledAtTheDeadlineWithItsWholeProcessTree()
    {
        var serial = "HekiGuest kernel\nPASS: runtime: a\nrunning crash.hang\n";
        var fake = FakeQemu.Create(directory, serial, exitCode: 1, hangWithChild: true);
        var deadline = TimeSpan.FromSeconds(2);

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("hang", deadline));

        Assert.True(outcome.TimedOut);
        Assert.Null(outcome.ExitCode);
        Assert.InRange(outcome.Elapsed, deadline, deadline + TimeSpan.FromSeconds(5));
        var hang = BootAssert.HasFinding(outcome, BootFindingKind.Hang);
        Assert.Contains("2 s deadline", hang.Message, StringComparison.Ordinal);
        Assert.Contains("never printed SUMMARY", hang.Message, StringComparison.Ordinal);
        var report = BootFailureReport.Format(outcome, BootDiagnosis.Diagnose(outcome, null));
        Assert.Contains("killed at the 2 s deadline", report, StringComparison.Ordinal);
        Assert.Contains("  | running crash.hang\n", report, StringComparison.Ordinal);

        var child = int.Parse(File.ReadAllText(fake.ChildPidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await ProcessIsGoneAsync(child), $"the fake's child process {child} outlived the kill");
    }

    [Fact]
    public async Task ExitWithoutSummaryIsReportedAsSuch()
    {
        var fake = FakeQemu.Create(directory, "HekiGuest kernel\nrunning crash.triple\n", exitCode: 0);

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("triple", TimeSpan.FromSeconds(20)));

        Assert.False(outcome.TimedOut);
        Assert.Equal(0, outcome.ExitCode);
        var finding = BootAssert.HasFinding(outcome, BootFindingKind.NoSummary);
        Assert.Contains("exited with code 0 without a SUMMARY line", finding.Message, StringComparison.Ordinal);
        Assert.Contains(BootDiagnosis.Diagnose(outcome, null), f => f.Kind == BootFindingKind.WrongExitCode);
    }

    [Fact]
    public async Task PanicLineAndExitFiveAreReported()
    {
        var fake = FakeQemu.Create(directory, "HekiGuest kernel\nPANIC: assertion failed: deliberate panic\n", exitCode: 5);

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("panic", TimeSpan.FromSeconds(20)));

        BootAssert.ExitedWith(outcome, GuestExitCodes.Panic);
        var panic = BootAssert.HasFinding(outcome, BootFindingKind.Panic);
        Assert.Equal("kernel panic (line 2): assertion failed: deliberate panic", panic.Message);
    }

    [Fact]
    public async Task HostErrorWithoutSerialOutputShowsTheHostsMessage()
    {
        var fake = FakeQemu.Create(directory, string.Empty, exitCode: 1, stderr: "qemu: could not load kernel");

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("host-error", TimeSpan.FromSeconds(20)));

        var findings = BootDiagnosis.Diagnose(outcome, null);
        Assert.Contains(findings, f => f.Kind == BootFindingKind.NoSummary);
        var report = BootFailureReport.Format(outcome, findings);
        Assert.Contains("serial: (the guest printed nothing)", report, StringComparison.Ordinal);
        Assert.Contains("qemu: could not load kernel", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureReportShowsExactlyTheLastTwentyLines()
    {
        var serial = string.Concat(Enumerable.Range(1, 50).Select(i => $"line {i}\n"));
        var fake = FakeQemu.Create(directory, serial, exitCode: 0);

        var outcome = await fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("tail", TimeSpan.FromSeconds(20)));
        var report = BootFailureReport.Format(outcome, BootDiagnosis.Diagnose(outcome, null));

        Assert.Contains("last 20 of 50 serial lines:", report, StringComparison.Ordinal);
        Assert.Contains("  | line 31\n", report, StringComparison.Ordinal);
        Assert.Contains("  | line 50\n", report, StringComparison.Ordinal);
        Assert.DoesNotContain("  | line 30\n", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArtifactSaysRunMakeFirst()
    {
        File.Delete(artifacts.KernelElf);
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);

        var error = await Assert.ThrowsAsync<BootSetupException>(
            () => fake.Host(artifacts, directory).BootAsync(BootRequest.Pvh("missing", TimeSpan.FromSeconds(20))));

        Assert.Contains(artifacts.KernelElf, error.Message, StringComparison.Ordinal);
        Assert.Contains("run make first", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(fake.ArgumentsFile));
    }

    [Fact]
    public async Task MissingQemuBinarySaysHowToGetIt()
    {
        var host = new QemuHost(
            new HarnessSettings(directory.Combine("no-such-qemu"), QemuAccelerator.Tcg, TimeSpan.FromSeconds(5)),
            artifacts,
            directory.Combine("logs"));

        var error = await Assert.ThrowsAsync<BootSetupException>(
            () => host.BootAsync(BootRequest.Pvh("no-qemu", TimeSpan.FromSeconds(5))));

        Assert.Contains("not found: run make deps", error.Message, StringComparison.Ordinal);
        Assert.Contains("HEKI_QEMU", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IsoBootRejectsACommandLine()
    {
        var fake = FakeQemu.Create(directory, PassingTranscript, exitCode: 1);
        var request = new BootRequest(BootMedium.Iso, "tests=runtime", TimeSpan.FromSeconds(5), "iso-cmdline");

        await Assert.ThrowsAsync<ArgumentException>(() => fake.Host(artifacts, directory).BootAsync(request));
    }

    [Fact]
    public async Task NoMoreThanTheSlotCapacityOfBootsRunAtOnce()
    {
        var log = directory.Combine("overlap.log");
        var hosts = Enumerable.Range(0, 3).Select(i =>
        {
            var script = directory.Combine($"timed-{i}.sh");
            File.WriteAllText(script, $"#!/bin/bash\necho \"start $(date +%s%N)\" >> {log}\nsleep 0.6\necho \"end $(date +%s%N)\" >> {log}\nexit 1\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return new QemuHost(new HarnessSettings(script, QemuAccelerator.Tcg, TimeSpan.FromSeconds(30)), artifacts, directory.Combine("logs"));
        }).ToArray();

        await Task.WhenAll(hosts.Select((host, i) => host.BootAsync(BootRequest.Pvh($"slot-{i}", TimeSpan.FromSeconds(30)))));

        var events = File.ReadAllLines(log)
            .Select(line => line.Split(' '))
            .Select(parts => (Time: long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), Delta: parts[0] == "start" ? 1 : -1))
            .OrderBy(e => e.Time).ThenBy(e => e.Delta);
        var running = 0;
        var most = 0;
        foreach (var (_, delta) in events)
        {
            running += delta;
            most = Math.Max(most, running);
        }

        Assert.Equal(6, File.ReadAllLines(log).Length);
        Assert.InRange(most, 1, BootSlots.Capacity);
    }

    private static async Task<bool> ProcessIsGoneAsync(int pid)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (!Directory.Exists($"/proc/{pid}") || IsZombie(pid))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
