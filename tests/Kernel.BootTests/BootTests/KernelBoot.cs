using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>Shared plumbing for the boot tests: the host from the environment, boot and log.</summary>
internal static class KernelBoot
{
    /// <summary>The groups a boot without <c>tests=</c> runs.</summary>
    public static readonly string[] DefaultGroups = ["runtime", "boot", "serial"];

    /// <summary>The QEMU host for this checkout (HEKI_QEMU, HEKI_QEMU_ACCEL, HEKI_BOOT_TIMEOUT).</summary>
    public static QemuHost Host() => QemuHost.FromEnvironment();

    /// <summary>The per-boot deadline from HEKI_BOOT_TIMEOUT (default 60 s).</summary>
    public static TimeSpan Deadline => HarnessSettings.FromEnvironment().BootTimeout;

    /// <summary>Boots <paramref name="request"/> on QEMU and writes the whole transcript to the test output.</summary>
    public static async Task<BootOutcome> BootAsync(BootRequest request, ITestOutputHelper output)
    {
        var outcome = await Host().BootAsync(request);
        BootAssert.Log(output, outcome);
        return outcome;
    }
}
