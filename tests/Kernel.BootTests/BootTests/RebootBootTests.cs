using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The kernel's hidden reboot group (tests=reboot) on hostsim: boot 1 leaves a counter in CMOS
/// NVRAM and asks for a reset through port 0xCF9; hostsim resets the VM (--on-reboot reboot, the
/// default) and boots the same image; boot 2 sees counter 1, finds every protection re-armed from
/// scratch and passes. The serial log shows both boots; the host's events show one guest reset
/// between the two boots' set-up. Under heki the guest's pins and memory protection are configured
/// again after the reset with no denial; under vsm VTL1 is enabled again after it.
/// </summary>
public sealed class RebootBootTests(ITestOutputHelper output)
{
    private const string Banner = "HekiGuest kernel ";

    [Theory]
    [InlineData("heki", "configure", 4)]
    [InlineData("vsm", "vtl-enable", 5)]
    public async Task A_reset_request_reboots_the_kernel_which_rearms_its_protections_and_passes(string profile, string setUpEvent, int results)
    {
        var request = BootRequest.Pvh($"reboot-{profile}", KernelBoot.Deadline * 2, "tests=reboot") with { HostSimArguments = ["--profile", profile] };
        var o = await KernelBoot.BootAsync(GuestHosts.HostSim, request, output);
        Assert.Equal(GuestExitCodes.AllPassed, o.ExitCode);
        var serial = o.SerialText.Replace("\r\n", "\n", StringComparison.Ordinal);

        // both boots in the serial log, in order: boot 1 asks, boot 2 sees the counter
        int firstBanner = serial.IndexOf(Banner, StringComparison.Ordinal);
        int asks = serial.IndexOf("\n  reboot: boot 1: counter 1 in CMOS", StringComparison.Ordinal);
        int secondBanner = serial.IndexOf(Banner, asks + 1, StringComparison.Ordinal);
        int sees = serial.IndexOf("\n  reboot: boot 2: CMOS counter 1, boot 1 armed ", StringComparison.Ordinal);
        Assert.True(firstBanner >= 0 && asks > firstBanner && secondBanner > asks && sees > secondBanner,
            $"want banner, boot 1's request, banner, boot 2's line in that order; found {firstBanner}, {asks}, {secondBanner}, {sees}");
        Assert.Equal(2, serial.Split(Banner).Length - 1);

        // the results and SUMMARY are boot 2's
        Assert.NotNull(o.Transcript.Summary);
        Assert.Empty(o.Transcript.Problems);
        Assert.All(o.Transcript.Results, r => Assert.Equal("reboot", r.Id.Group));
        Assert.Equal(results, o.Transcript.Results.Count);
        Assert.Empty(o.Transcript.UnexpectedFailures);
        Assert.Contains(o.Transcript.Results, r => r.Id.Name == "boot 2 sees CMOS counter 1" && r.Kind == ResultKind.Pass);
        Assert.Contains(o.Transcript.Results, r => r.Id.Name == "boot 2 armed every protection boot 1 had again" && r.Kind == ResultKind.Pass);
        if (profile == "heki")
            Assert.Contains(o.Transcript.Results, r => r.Id.Name == "the page boot 1 locked is writable after the reset" && r.Kind == ResultKind.Pass);
        else
            Assert.Contains(o.Transcript.Results, r => r.Id.Name == "boot 2 started a new VTL1 monitor" && r.Kind == ResultKind.Pass);

        // the host: one guest reset through 0xCF9, set-up before and after it, no denial
        Assert.NotNull(o.EventsLogPath);
        var events = HostEvent.ReadLog(o.EventsLogPath!);
        var reset = Assert.Single(events, e => e.Event == "reset");
        Assert.Equal("guest-reset", reset.Get("reason"));
        Assert.Equal("guest reset request: port 0xcf9 value 0x06 (hard reset)", reset.Get("source"));
        Assert.Contains(events, e => e.Event == setUpEvent && e.LineNumber < reset.LineNumber);
        Assert.Contains(events, e => e.Event == setUpEvent && e.LineNumber > reset.LineNumber);
        Assert.DoesNotContain(events, e => e.Event == "denial");
    }
}
