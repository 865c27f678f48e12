namespace HekiGuest.Tests.Boot;

public sealed class HarnessSettingsTests
{
    [Fact]
    public void DefaultsAreQemuOnPathTcgAndSixtySeconds()
    {
        var settings = HarnessSettings.FromEnvironment(_ => null);

        Assert.Equal(new HarnessSettings("qemu-system-x86_64", QemuAccelerator.Tcg, TimeSpan.FromSeconds(60)), settings);
    }

    [Theory]
    [InlineData("kvm", QemuAccelerator.Kvm)]
    [InlineData("KVM", QemuAccelerator.Kvm)]
    [InlineData("tcg", QemuAccelerator.Tcg)]
    [InlineData(" ", QemuAccelerator.Tcg)]
    public void AcceleratorComesFromHekiQemuAccel(string value, QemuAccelerator accelerator)
    {
        var settings = HarnessSettings.FromEnvironment(name => name == "HEKI_QEMU_ACCEL" ? value : null);

        Assert.Equal(accelerator, settings.Accelerator);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("2.5s", 2.5)]
    [InlineData(" 8 ", 8)]
    public void TimeoutComesFromHekiBootTimeout(string value, double seconds)
    {
        var settings = HarnessSettings.FromEnvironment(name => name == "HEKI_BOOT_TIMEOUT" ? value : null);

        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.BootTimeout);
    }

    [Theory]
    [InlineData(null, "/usr/share/ovmf/OVMF.fd")]
    [InlineData(" /opt/ovmf/OVMF.fd ", "/opt/ovmf/OVMF.fd")]
    public void OvmfFirmwareComesFromHekiOvmf(string? value, string firmware)
    {
        var settings = HarnessSettings.FromEnvironment(name => name == "HEKI_OVMF" ? value : null);

        Assert.Equal(firmware, settings.OvmfFirmware);
    }

    [Fact]
    public void QemuBinaryComesFromHekiQemu()
    {
        var settings = HarnessSettings.FromEnvironment(name => name == "HEKI_QEMU" ? "/opt/qemu/bin/qemu-system-x86_64" : null);

        Assert.Equal("/opt/qemu/bin/qemu-system-x86_64", settings.QemuBinary);
    }

    [Theory]
    [InlineData("HEKI_QEMU_ACCEL", "hvf", "HEKI_QEMU_ACCEL must be 'tcg' or 'kvm', not 'hvf'")]
    [InlineData("HEKI_BOOT_TIMEOUT", "soon", "HEKI_BOOT_TIMEOUT must be a number of seconds")]
    [InlineData("HEKI_BOOT_TIMEOUT", "0", "HEKI_BOOT_TIMEOUT must be a number of seconds")]
    [InlineData("HEKI_BOOT_TIMEOUT", "-5", "HEKI_BOOT_TIMEOUT must be a number of seconds")]
    [InlineData("HEKI_BOOT_TIMEOUT", "1e9", "HEKI_BOOT_TIMEOUT must be a number of seconds")]
    public void MalformedValuesGiveAOneLineError(string variable, string value, string message)
    {
        var error = Assert.Throws<BootSetupException>(
            () => HarnessSettings.FromEnvironment(name => name == variable ? value : null));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void RepositoryRootIsFoundAboveTheTestAssembly()
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);

        Assert.True(File.Exists(Path.Combine(root, "HekiGuest.sln")));
        Assert.Equal(Path.Combine(root, "build", "kernel.elf"), KernelArtifacts.InRepository(root).KernelElf);
    }

    [Fact]
    public void NoRepositoryRootIsASetupError()
    {
        var error = Assert.Throws<BootSetupException>(() => KernelArtifacts.FindRepositoryRoot("/"));

        Assert.Contains("no HekiGuest.sln", error.Message, StringComparison.Ordinal);
    }
}
