using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>Shared plumbing for the boot tests: deadline from the environment, boot and log.</summary>
internal static class KernelBoot
{
    /// <summary>The per-boot deadline from HEKI_BOOT_TIMEOUT (default 60 s).</summary>
    public static TimeSpan Deadline => HarnessSettings.FromEnvironment().BootTimeout;

    /// <summary>Boots <paramref name="request"/> on <paramref name="hostName"/> and writes the whole transcript to the test output.</summary>
    public static async Task<BootOutcome> BootAsync(string hostName, BootRequest request, ITestOutputHelper output)
    {
        var outcome = await GuestHosts.Create(hostName).BootAsync(request);
        BootAssert.Log(output, outcome);
        return outcome;
    }
}
