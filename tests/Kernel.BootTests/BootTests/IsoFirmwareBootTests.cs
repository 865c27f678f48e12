using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The ISO as a user boots it: its default GRUB entry, which carries no test parameters, on BIOS
/// (SeaBIOS) and UEFI (OVMF), with the boot tests' 128 MiB and with 1 GiB. Each boot must be clean
/// (every expected test PASSes, no FAIL, a consistent SUMMARY, exit status 1), and the checks of
/// what the host configured (mem=, modules=) must SKIP: nothing told the kernel what to expect.
/// </summary>
public sealed class IsoFirmwareBootTests(ITestOutputHelper output)
{
    /// <summary>The checks that compare the boot information with mem= and modules=.</summary>
    private static readonly TestId[] ParameterChecks =
    [
        new("boot", "memory total matches the host"),
        new("boot", "module count matches the host"),
    ];

    /// <summary>The default entry loads no module, so nothing reports on one.</summary>
    private static readonly TestId[] ModuleChecks = [new("boot", "module contents")];

    [Theory]
    [InlineData(Firmware.SeaBios, 128)]
    [InlineData(Firmware.SeaBios, 1024)]
    [InlineData(Firmware.Ovmf, 128)]
    [InlineData(Firmware.Ovmf, 1024)]
    public async Task DefaultEntryBootsClean(Firmware firmware, int memoryMiB)
    {
        var outcome = await KernelBoot.BootAsync(
            GuestHosts.Qemu,
            BootRequest.IsoDefaultEntry($"iso-{firmware.ToString().ToLowerInvariant()}-{memoryMiB}m", KernelBoot.Deadline, firmware, memoryMiB),
            output);

        BootAssert.Passed(outcome, ExpectedTests.LoadDefault().Without(ModuleChecks).AllowingSkip(ParameterChecks));
        foreach (var check in ParameterChecks)
        {
            var result = outcome.Transcript.Find(check);
            Assert.True(result?.Kind == ResultKind.Skip, $"'{check}' must SKIP without test parameters, got '{result?.ToString() ?? "no result line"}'");
        }

        Assert.Contains(outcome.Transcript.Lines, l => l.Trim() == "boot: command line ''");
    }
}
