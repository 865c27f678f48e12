using System.Globalization;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Harness knobs taken from the environment:
/// <list type="bullet">
/// <item><c>HEKI_QEMU</c>: the QEMU binary (a path, or a name looked up on PATH); default qemu-system-x86_64.</item>
/// <item><c>HEKI_QEMU_ACCEL</c>: <c>tcg</c> (default) or <c>kvm</c>.</item>
/// <item><c>HEKI_BOOT_TIMEOUT</c>: seconds per boot, e.g. <c>90</c> or <c>2.5s</c>; default 60.</item>
/// <item><c>HEKI_OVMF</c>: the UEFI firmware image of the OVMF boots; default /usr/share/ovmf/OVMF.fd.</item>
/// </list>
/// </summary>
public sealed record HarnessSettings(string QemuBinary, QemuAccelerator Accelerator, TimeSpan BootTimeout)
{
    /// <summary>Name of the variable that selects the QEMU binary.</summary>
    public const string QemuVariable = "HEKI_QEMU";

    /// <summary>Name of the variable that selects the accelerator.</summary>
    public const string AcceleratorVariable = "HEKI_QEMU_ACCEL";

    /// <summary>Name of the variable that sets the per-boot deadline.</summary>
    public const string TimeoutVariable = "HEKI_BOOT_TIMEOUT";

    /// <summary>Name of the variable that selects the UEFI firmware image.</summary>
    public const string OvmfVariable = "HEKI_OVMF";

    /// <summary>UEFI firmware used when HEKI_OVMF is unset: Debian's ovmf package, code and variables in one image.</summary>
    public const string DefaultOvmfFirmware = "/usr/share/ovmf/OVMF.fd";

    /// <summary>The UEFI firmware image for <see cref="Firmware.Ovmf"/> boots.</summary>
    public string OvmfFirmware { get; init; } = DefaultOvmfFirmware;

    /// <summary>QEMU binary used when HEKI_QEMU is unset.</summary>
    public const string DefaultQemuBinary = "qemu-system-x86_64";

    /// <summary>Per-boot deadline when HEKI_BOOT_TIMEOUT is unset (generous for TCG on a busy 2-core machine).</summary>
    public static readonly TimeSpan DefaultBootTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan MaximumBootTimeout = TimeSpan.FromHours(1);

    /// <summary>Reads the settings from the process environment.</summary>
    public static HarnessSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Reads the settings through <paramref name="variable"/>; a malformed value throws <see cref="BootSetupException"/>.</summary>
    public static HarnessSettings FromEnvironment(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);

        var qemu = variable(QemuVariable);
        var binary = string.IsNullOrWhiteSpace(qemu) ? DefaultQemuBinary : qemu.Trim();
        var ovmf = variable(OvmfVariable);
        return new HarnessSettings(
            binary,
            ParseAccelerator(variable(AcceleratorVariable)),
            ParseTimeout(variable(TimeoutVariable)))
        {
            OvmfFirmware = string.IsNullOrWhiteSpace(ovmf) ? DefaultOvmfFirmware : ovmf.Trim(),
        };
    }

    private static QemuAccelerator ParseAccelerator(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return QemuAccelerator.Tcg;
        }

        return value.Trim().ToLowerInvariant() switch
        {
            "tcg" => QemuAccelerator.Tcg,
            "kvm" => QemuAccelerator.Kvm,
            _ => throw new BootSetupException($"{AcceleratorVariable} must be 'tcg' or 'kvm', not '{value}'"),
        };
    }

    private static TimeSpan ParseTimeout(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultBootTimeout;
        }

        var text = value.Trim();
        if (text.EndsWith('s'))
        {
            text = text[..^1];
        }

        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            || seconds <= 0
            || seconds > MaximumBootTimeout.TotalSeconds)
        {
            throw new BootSetupException(
                $"{TimeoutVariable} must be a number of seconds between 0 and {MaximumBootTimeout.TotalSeconds:0} (e.g. 90 or 2.5s), not '{value}'");
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
