using System.Globalization;

namespace HekiGuest.Tests.Boot;

/// <summary>Builds the qemu-system-x86_64 argument list for a boot.</summary>
public static class QemuCommandLine
{
    /// <summary>
    /// The arguments for <paramref name="request"/>. Serial goes to <paramref name="serialLogPath"/>
    /// through a file chardev: QEMU writes each guest byte straight to the file, so a transcript
    /// survives a kill at the deadline intact, and QEMU's own messages (stderr) stay apart from it.
    /// </summary>
    /// <exception cref="BootSetupException">A needed artifact is missing ("run make first"), or the UEFI firmware ("run make deps").</exception>
    /// <exception cref="ArgumentException">
    /// An ISO boot was given a command line, a PVH boot a firmware, the memory size is out of range, or the log path has a comma.
    /// </exception>
    public static IReadOnlyList<string> Build(
        QemuAccelerator accelerator,
        KernelArtifacts artifacts,
        BootRequest request,
        string serialLogPath,
        string ovmfFirmware = HarnessSettings.DefaultOvmfFirmware)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(request);
        if (serialLogPath.Contains(',', StringComparison.Ordinal))
        {
            throw new ArgumentException($"QEMU's -serial file: cannot take a path with a comma: '{serialLogPath}'", nameof(serialLogPath));
        }

        if (request.MemoryMiB is < 16 or > 65536)
        {
            throw new ArgumentException($"guest memory must be 16..65536 MiB, not {request.MemoryMiB}", nameof(request));
        }

        var arguments = new List<string>
        {
            "-machine", "q35",
            "-cpu", "max",
            "-m", request.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M",
            "-accel", accelerator == QemuAccelerator.Kvm ? "kvm" : "tcg",
            "-display", "none",
            "-no-reboot",
            "-nodefaults",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-serial", "file:" + serialLogPath,
        };

        switch (request.Medium)
        {
            case BootMedium.Pvh:
                if (request.Firmware != Firmware.SeaBios)
                {
                    throw new ArgumentException("a PVH boot (-kernel) starts without firmware; boot the ISO to choose one", nameof(request));
                }

                arguments.AddRange(["-kernel", KernelArtifacts.Require(artifacts.KernelElf)]);
                if (!request.WithoutModule)
                {
                    arguments.AddRange(["-initrd", KernelArtifacts.Require(artifacts.TestModule)]);
                }

                arguments.AddRange(["-append", request.KernelCommandLine ?? BootRequest.DefaultCommandLine]);
                break;
            case BootMedium.Iso:
                if (request.KernelCommandLine is not null || request.WithoutModule)
                {
                    throw new ArgumentException(
                        "an ISO boot takes its command line and module from grub.cfg; boot PVH to choose them", nameof(request));
                }

                if (request.Firmware == Firmware.Ovmf)
                {
                    if (!File.Exists(ovmfFirmware))
                    {
                        throw new BootSetupException(
                            $"UEFI firmware {ovmfFirmware} is missing: run make deps (installs ovmf) or set {HarnessSettings.OvmfVariable}");
                    }

                    arguments.AddRange(["-bios", ovmfFirmware]);
                }

                if (request.Entry == IsoEntry.SelfTest)
                {
                    arguments.AddRange(["-smbios", "type=1,serial=" + BootRequest.SelfTestSmbiosSerial]);
                }

                arguments.AddRange(["-cdrom", KernelArtifacts.Require(artifacts.Iso), "-boot", "d"]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Medium, "unknown boot medium");
        }

        return arguments;
    }
}
