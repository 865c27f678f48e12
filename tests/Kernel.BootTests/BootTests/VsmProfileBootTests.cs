using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// hostsim's policy-free Hyper-V VSM host (--profile vsm, docs/vtl.md) offers no HekiGuest
/// range, so today's kernel finds no HekiGuest interface and runs guest-only: every self-test
/// reports exactly what it reports with no host interface at all (--profile none), the heki
/// attacks SKIPping on both.
/// </summary>
public sealed class VsmProfileBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_kernel_on_the_vsm_profile_reports_what_it_reports_with_no_interface()
    {
        var request = BootRequest.Pvh("vsm-profile", KernelBoot.Deadline);
        var vsm = KernelBoot.BootAsync(GuestHosts.HostSim, request with { HostSimArguments = ["--profile", "vsm"] }, output);
        var none = KernelBoot.BootAsync(GuestHosts.HostSim, request with { Label = "vsm-profile-baseline", HostSimArguments = ["--profile", "none"] }, output);
        var (v, n) = (await vsm, await none);
        Assert.Equal(GuestExitCodes.AllPassed, v.ExitCode);
        Assert.Equal(GuestExitCodes.AllPassed, n.ExitCode);
        var differences = ResultSetComparison.Differences("hostsim --profile vsm", v.Transcript, "hostsim --profile none", n.Transcript);
        Assert.True(differences.Count == 0, "result sets differ:\n" + string.Join('\n', differences));
        Assert.True(v.Transcript.Results.Count >= 100, $"only {v.Transcript.Results.Count} results: the comparison would prove little");
        Assert.Contains(v.Transcript.Results, r => r.Id.Group == "heki" && r.Kind == ResultKind.Skip);
    }
}
