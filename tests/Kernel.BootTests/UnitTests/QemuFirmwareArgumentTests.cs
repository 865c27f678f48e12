namespace HekiGuest.Tests.Boot;

/// <summary>How an ISO request's firmware, memory size and GRUB entry become QEMU arguments (no QEMU runs).</summary>
public sealed class QemuFirmwareArgumentTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly KernelArtifacts artifacts;
    private readonly string ovmf;

    public QemuFirmwareArgumentTests()
    {
        artifacts = FakeQemu.CreateArtifacts(directory);
        ovmf = directory.Combine("OVMF.fd");
        File.WriteAllText(ovmf, string.Empty);
    }

    public void Dispose() => directory.Dispose();

    [Fact]
    public void SelfTestEntryIsSelectedThroughSmbiosUnderSeaBios()
    {
        var arguments = Build(BootRequest.Iso("iso", TimeSpan.FromSeconds(5)));

        Assert.Equal(["-smbios", "type=1,serial=hekiguest-selftest", "-cdrom", artifacts.Iso, "-boot", "d"], arguments.TakeLast(6));
        Assert.DoesNotContain("-bios", arguments);
        Assert.Equal("128M", arguments[arguments.ToList().IndexOf("-m") + 1]);
    }

    [Fact]
    public void DefaultEntryUnderOvmfWithOneGibibyte()
    {
        var arguments = Build(BootRequest.IsoDefaultEntry("uefi", TimeSpan.FromSeconds(5), Firmware.Ovmf, 1024));

        Assert.Equal(["-bios", ovmf, "-cdrom", artifacts.Iso, "-boot", "d"], arguments.TakeLast(6));
        Assert.DoesNotContain("-smbios", arguments);
        Assert.Equal("1024M", arguments[arguments.ToList().IndexOf("-m") + 1]);
    }

    [Fact]
    public void MissingOvmfSaysToRunMakeDeps()
    {
        var request = BootRequest.IsoDefaultEntry("uefi", TimeSpan.FromSeconds(5), Firmware.Ovmf, 128);

        var error = Assert.Throws<BootSetupException>(
            () => QemuCommandLine.Build(QemuAccelerator.Tcg, artifacts, request, directory.Combine("serial.log"), directory.Combine("absent.fd")));

        Assert.Contains("run make deps (installs ovmf)", error.Message, StringComparison.Ordinal);
        Assert.Contains(HarnessSettings.OvmfVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PvhBootTakesNoFirmware()
    {
        var request = BootRequest.Pvh("pvh", TimeSpan.FromSeconds(5)) with { Firmware = Firmware.Ovmf };

        Assert.Throws<ArgumentException>(() => Build(request));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(65537)]
    public void MemoryOutOfRangeIsRejected(int memoryMiB)
    {
        var request = BootRequest.IsoDefaultEntry("mem", TimeSpan.FromSeconds(5), Firmware.SeaBios, memoryMiB);

        Assert.Throws<ArgumentException>(() => Build(request));
    }

    private IReadOnlyList<string> Build(BootRequest request) =>
        QemuCommandLine.Build(QemuAccelerator.Tcg, artifacts, request, directory.Combine("serial.log"), ovmf);
}
