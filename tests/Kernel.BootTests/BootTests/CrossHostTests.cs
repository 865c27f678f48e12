using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The same kernel image, booted on QEMU (PVH) and on hostsim (multiboot2) with the same
/// command line, must report the same set of PASS/FAIL/SKIP results: the simulator is a faithful
/// host for the self-tests. The only allowed differences are the tests expected-tests.txt marks
/// skip-on qemu (the attacks on host-enforced protections, which QEMU cannot offer).
/// </summary>
public sealed class CrossHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task QemuAndHostSimReportIdenticalResultSets()
    {
        var request = BootRequest.Pvh("cross-host-default", KernelBoot.Deadline);
        var qemu = KernelBoot.BootAsync(GuestHosts.Qemu, request, output);
        var hostsim = KernelBoot.BootAsync(GuestHosts.HostSim, request, output);
        var (q, h) = (await qemu, await hostsim);
        Assert.Equal(GuestExitCodes.AllPassed, q.ExitCode);
        Assert.Equal(GuestExitCodes.AllPassed, h.ExitCode);
        var differences = ResultSetComparison.Differences(GuestHosts.Qemu, q.Transcript, GuestHosts.HostSim, h.Transcript, ExpectedTests.LoadDefault());
        Assert.True(differences.Count == 0, "result sets differ:\n" + string.Join('\n', differences));
        Assert.True(q.Transcript.Results.Count >= 100, $"only {q.Transcript.Results.Count} results: the comparison would prove little");
        Assert.Contains(h.Transcript.Results, r => r.Id.Group == "heki" && r.Kind == ResultKind.Pass && r.Id.Name != "unpinned CR4 bits still change");
    }

    /// <summary>hostsim without a host interface (--profile none) is QEMU's twin: the sets are
    /// identical with no exemption at all, the heki attacks SKIPping on both.</summary>
    [Fact]
    public async Task QemuAndHostSimWithoutInterfaceReportIdenticalResultSets()
    {
        var request = BootRequest.Pvh("cross-host-no-interface", KernelBoot.Deadline);
        var qemu = KernelBoot.BootAsync(GuestHosts.Qemu, request, output);
        var hostsim = KernelBoot.BootAsync(GuestHosts.HostSim, request with { HostSimArguments = ["--profile", "none"] }, output);
        var (q, h) = (await qemu, await hostsim);
        Assert.Equal(GuestExitCodes.AllPassed, q.ExitCode);
        Assert.Equal(GuestExitCodes.AllPassed, h.ExitCode);
        var differences = ResultSetComparison.Differences(GuestHosts.Qemu, q.Transcript, GuestHosts.HostSim, h.Transcript);
        Assert.True(differences.Count == 0, "result sets differ:\n" + string.Join('\n', differences));
        Assert.True(q.Transcript.Results.Count >= 100, $"only {q.Transcript.Results.Count} results: the comparison would prove little");
    }
}
