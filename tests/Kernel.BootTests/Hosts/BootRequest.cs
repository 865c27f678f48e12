namespace HekiGuest.Tests.Boot;

/// <summary>One boot to perform.</summary>
/// <param name="Medium">PVH (-kernel) or the GRUB ISO.</param>
/// <param name="KernelCommandLine">
/// The kernel command line for a PVH boot. Null for an ISO boot, whose command line is fixed by the
/// grub.cfg entry it boots (<see cref="Entry"/>).
/// </param>
/// <param name="Deadline">Wall-clock limit for the boot; the host kills the guest when it passes.</param>
/// <param name="Label">Names the boot in logs and failure messages (e.g. the test's name).</param>
public sealed record BootRequest(BootMedium Medium, string? KernelCommandLine, TimeSpan Deadline, string Label)
{
    /// <summary>The command line of the ISO's self-test entry, and the PVH default: one module, 128 MiB.</summary>
    public const string DefaultCommandLine = "modules=1 mem=128";

    /// <summary>The guest RAM of every boot unless <see cref="MemoryMiB"/> says otherwise (what <c>mem=128</c> states).</summary>
    public const int DefaultMemoryMiB = 128;

    /// <summary>The SMBIOS system serial number that makes the ISO's grub.cfg boot its self-test entry.</summary>
    public const string SelfTestSmbiosSerial = "hekiguest-selftest";

    /// <summary>Guest RAM in MiB: QEMU's -m. hostsim boots keep its default (128 MiB) and only boot PVH, whose mem=128 states that.</summary>
    public int MemoryMiB { get; init; } = DefaultMemoryMiB;

    /// <summary>The firmware of an ISO boot (a PVH boot has none to choose).</summary>
    public Firmware Firmware { get; init; } = Firmware.SeaBios;

    /// <summary>The grub.cfg entry an ISO boot selects.</summary>
    public IsoEntry Entry { get; init; } = IsoEntry.SelfTest;

    /// <summary>True to boot PVH without build/testmodule.bin (a missing-module test); the ISO always has it.</summary>
    public bool WithoutModule { get; init; }

    /// <summary>Extra hostsim options (e.g. --profile, --on-denial, --pin, --boot pvh); other hosts ignore them.</summary>
    public IReadOnlyList<string> HostSimArguments { get; init; } = [];

    /// <summary>A PVH boot with <paramref name="extraArguments"/> appended to the default arguments.</summary>
    public static BootRequest Pvh(string label, TimeSpan deadline, string? extraArguments = null) =>
        new(BootMedium.Pvh, Join(DefaultCommandLine, extraArguments), deadline, label);

    /// <summary>An ISO boot of the self-test entry under SeaBIOS, 128 MiB (command line and module from grub.cfg).</summary>
    public static BootRequest Iso(string label, TimeSpan deadline) => new(BootMedium.Iso, null, deadline, label);

    /// <summary>An ISO boot of the entry users boot (no test parameters) under <paramref name="firmware"/> with <paramref name="memoryMiB"/> of RAM.</summary>
    public static BootRequest IsoDefaultEntry(string label, TimeSpan deadline, Firmware firmware, int memoryMiB) =>
        new(BootMedium.Iso, null, deadline, label) { Firmware = firmware, MemoryMiB = memoryMiB, Entry = IsoEntry.Default };

    private static string Join(string baseline, string? extra) =>
        string.IsNullOrWhiteSpace(extra) ? baseline : $"{baseline} {extra.Trim()}";
}
