using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The default boot on both paths must PASS every test in expected-tests.txt, print no FAIL, close
/// with a SUMMARY that agrees with the result lines, and exit with status 1.
/// </summary>
public sealed class DefaultBootTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task PvhBootPassesEveryExpectedTest(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-default", KernelBoot.Deadline),
            output);

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault());
    }

    [Theory]
    [MemberData(nameof(GuestHosts.IsoCapable), MemberType = typeof(GuestHosts))]
    public async Task IsoBootPassesEveryExpectedTest(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Iso("iso-default", KernelBoot.Deadline),
            output);

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault());
    }

    /// <summary>hostsim boots multiboot2 by default; its PVH entry (QEMU's -kernel path) must work too.</summary>
    [Fact]
    public async Task HostSimBootsThroughThePvhEntryToo()
    {
        var outcome = await KernelBoot.BootAsync(
            GuestHosts.HostSim,
            BootRequest.Pvh("pvh-entry", KernelBoot.Deadline) with { HostSimArguments = ["--boot", "pvh"] },
            output);

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault());
        Assert.Contains(outcome.Transcript.Lines, l => l.Contains("boot: protocol pvh", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task PvhBootOfOneGroupRunsOnlyThatGroup(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-serial-only", KernelBoot.Deadline, "tests=serial"),
            output);

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault().ForGroups(["serial"]));
        Assert.All(outcome.Transcript.Results, r => Assert.Equal("serial", r.Id.Group));
    }
}
