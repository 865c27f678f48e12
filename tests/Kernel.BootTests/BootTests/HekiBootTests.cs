using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The kernel's attacks on its host-enforced protections, on hostsim: every attack is blocked
/// (PASS), every denial the kernel announces appears exactly once in the host's event log with
/// the right fields, accepted locks appear as configure events, the compatibility profiles work
/// only when both sides select them, and host userspace's policy and pre-pins take effect.
/// </summary>
public sealed class HekiBootTests(ITestOutputHelper output)
{
    /// <summary>The 13 attacks on host-enforced protections: the heki tests expected-tests.txt marks
    /// skip-on (they need a host interface), so the list has one home.</summary>
    private static string[] AttackTests()
    {
        var attacks = ExpectedTests.LoadDefault().ForGroups(["heki"]).Entries
            .Where(e => e.SkipOn.Count > 0).Select(e => e.Id.Name).ToArray();
        Assert.Equal(13, attacks.Length);
        return attacks;
    }

    [Fact]
    public async Task EveryAnnouncedDenialAppearsExactlyOnceInTheEventLog()
    {
        var outcome = await Boot("heki-events", "tests=heki");

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault().ForGroups(["heki"]));
        var events = Events(outcome);
        var expectations = DenialExpectation.FromTranscript(outcome.Transcript);
        Assert.Equal(10, expectations.Count);   // 2 CR writes, 3 MSR writes, 4 memory accesses (one by the page walk), 1 PROTECT_MEMORY
        Assert.Equal(
            ["cr-write", "memory", "msr-write", "protect-memory"],
            expectations.Select(e => e.Fields["kind"]).Distinct().Order(StringComparer.Ordinal));
        var problems = DenialLedger.Problems(expectations, events);
        Assert.True(problems.Count == 0, string.Join('\n', problems));

        // Accepted locks: CR0 and CR4 pinned through the MSRs, then the memory ranges.
        var configure = events.Where(e => e.Event == "configure").ToList();
        Assert.Contains(configure, e => e.Get("source") == "msr" && e.Get("cr") == "0" && HostEvent.SameValue(e.Get("pinned_high")!, "0x10000"));
        Assert.Contains(configure, e => e.Get("source") == "msr" && e.Get("cr") == "4" && HostEvent.SameValue(e.Get("pinned_high")!, "0x300800"));
        var ranges = configure.Single(e => e.Raw.TryGetProperty("ranges", out _)).Raw.GetProperty("ranges");
        Assert.True(ranges.GetArrayLength() >= 4, ranges.GetRawText());
        Assert.Contains(ranges.EnumerateArray(), r => r.GetProperty("permissions").GetString() == "0xd");   // text: R+X immutable
        Assert.Contains(ranges.EnumerateArray(), r => r.GetProperty("permissions").GetString() == "0x9");   // rodata: R immutable
        Assert.Contains(ranges.EnumerateArray(), r => r.GetProperty("permissions").GetString() == "0xb");   // RAM: R+W immutable
        Assert.Contains("heki: kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable: host-enforced",
            outcome.Transcript.Lines);
    }

    /// <summary>cr-pin-2020: pins through the June 2020 MSRs only; heki-v3: LOCK_CR_UPDATE only. Both
    /// sides must name the profile.</summary>
    [Theory]
    [InlineData("cr-pin-2020", new[] { "writing an ALLOWED MSR faults", "pinning a disallowed bit faults", "removing a pin faults" }, "msr-write")]
    [InlineData("heki-v3", new string[0], null)]
    public async Task CompatibilityProfilePinsAndBlocksCrWrites(string profile, string[] extraPasses, string? extraDenialKind)
    {
        var outcome = await Boot($"heki-{profile}", $"tests=heki heki.profile={profile}", "--profile", profile);

        Assert.Equal(GuestExitCodes.AllPassed, outcome.ExitCode);
        string[] passes = ["host interface detected", "CR pins in place", "clearing pinned CR4.SMEP faults, CR4 unchanged",
            "clearing pinned CR0.WP faults, CR0 unchanged", "unpinned CR4 bits still change", .. extraPasses];
        foreach (var name in passes)
        {
            Assert.Equal(ResultKind.Pass, Result(outcome, name).Kind);
        }

        foreach (var name in AttackTests().Except(passes))
        {
            Assert.Equal(ResultKind.Skip, Result(outcome, name).Kind);
        }

        var events = Events(outcome);
        var problems = DenialLedger.Problems(DenialExpectation.FromTranscript(outcome.Transcript), events);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.Contains(events, e => e.Event == "denial" && e.Get("kind") == "cr-write");
        if (extraDenialKind is not null)
        {
            Assert.Contains(events, e => e.Event == "denial" && e.Get("kind") == extraDenialKind);
        }

        Assert.Contains(events, e => e.Event == "configure" && e.Get("source") == (profile == "heki-v3" ? "hypercall" : "msr"));
        Assert.DoesNotContain(events, e => e.Raw.TryGetProperty("ranges", out _));
    }

    /// <summary>The historical numberings collide with upstream KVM, so neither side guesses:
    /// a guest that does not name the host's profile uses no interface at all.</summary>
    [Theory]
    [InlineData("cr-pin-2020", "", "no HekiGuest host interface")]
    [InlineData("heki-v3", "", "no HekiGuest host interface")]
    [InlineData("heki", "heki.profile=cr-pin-2020", "feature bit 15 is clear")]
    [InlineData("heki", "heki.profile=heki-v3", "heki-v3 selected but LOCK_CR_UPDATE's version query failed")]
    [InlineData("heki", "heki.profile=off", "disabled on the command line")]
    [InlineData("none", "", "no hypervisor")]
    public async Task ProfilesAreNeverAutodetected(string hostProfile, string guestArguments, string reason)
    {
        var outcome = await Boot($"heki-mismatch-{hostProfile}-{guestArguments}", $"tests=heki {guestArguments}", "--profile", hostProfile);

        Assert.Equal(GuestExitCodes.AllPassed, outcome.ExitCode);
        foreach (var name in AttackTests())
        {
            var result = Result(outcome, name);
            Assert.Equal(ResultKind.Skip, result.Kind);
            Assert.Contains(reason, result.Detail ?? string.Empty, StringComparison.Ordinal);
        }

        Assert.Equal(ResultKind.Pass, Result(outcome, "unpinned CR4 bits still change").Kind);
        Assert.DoesNotContain(Events(outcome), e => e.Event == "denial");
    }

    [Fact]
    public async Task StopPolicyStopsTheVmAtTheFirstDenialWithAReport()
    {
        var outcome = await Boot("heki-on-denial-stop", "tests=heki", "--on-denial", "stop");

        Assert.Equal(HostSimHost.DeniedExitCode, outcome.ExitCode);
        Assert.Null(outcome.Transcript.Summary);
        var denial = Assert.Single(Events(outcome), e => e.Event == "denial");
        var announced = DenialExpectation.FromTranscript(outcome.Transcript);
        var last = announced[^1];
        Assert.True(DenialLedger.Problems([last], [denial]).Count == 0, $"{last} vs {denial}");
        Assert.Contains($"{denial.Get("kind")} denied", outcome.HostDiagnostics, StringComparison.Ordinal);
        Assert.Contains("last 32 instructions", outcome.HostDiagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostPrePinIsInPlaceBeforeTheFirstInstructionAndTheKernelStillBoots()
    {
        var outcome = await Boot("heki-pre-pin-wp", "tests=heki", "--pin", "cr0=0x10000");

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault().ForGroups(["heki"]));
        var first = Events(outcome)[0];
        Assert.Equal("configure", first.Event);
        Assert.Equal("host", first.Get("source"));
        Assert.True(HostEvent.SameValue("0x10000", first.Get("pinned_high")!), first.ToString());
    }

    /// <summary>Why pins must be cleared on reset: a pin the boot code does not know about stops the
    /// next kernel at its first CR4 write (before it has an IDT: a triple fault).</summary>
    [Fact]
    public async Task PinUnknownToTheBootCodeStopsItAtItsFirstCr4Write()
    {
        var outcome = await Boot("heki-pre-pin-smep", "tests=heki", "--pin", "cr4=0x100000");

        Assert.Equal(HostSimHost.TripleFaultExitCode, outcome.ExitCode);
        var denial = Assert.Single(Events(outcome), e => e.Event == "denial");
        Assert.Equal("cr-write", denial.Get("kind"));
        Assert.Equal("4", denial.Get("cr"));
        Assert.Contains("vector 13", outcome.HostDiagnostics, StringComparison.Ordinal);
    }

    private async Task<BootOutcome> Boot(string label, string kernelArguments, params string[] hostArguments)
    {
        var request = BootRequest.Pvh(label, KernelBoot.Deadline, kernelArguments) with { HostSimArguments = hostArguments };
        return await KernelBoot.BootAsync(GuestHosts.HostSim, request, output);
    }

    private static TestResult Result(BootOutcome outcome, string name) =>
        outcome.Transcript.Find(new TestId("heki", name))
        ?? throw new Xunit.Sdk.XunitException($"no result for 'heki: {name}'\n{BootFailureReport.Context(outcome)}");

    private static IReadOnlyList<HostEvent> Events(BootOutcome outcome) =>
        HostEvent.ReadLog(outcome.EventsLogPath ?? throw new Xunit.Sdk.XunitException("hostsim wrote no event log\n" + BootFailureReport.Context(outcome)));
}
