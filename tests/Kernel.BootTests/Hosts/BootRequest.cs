namespace HekiGuest.Tests.Boot;

/// <summary>One boot to perform.</summary>
/// <param name="Medium">PVH (-kernel) or the GRUB ISO.</param>
/// <param name="KernelCommandLine">
/// The kernel command line for a PVH boot. Null for an ISO boot, whose command line is fixed by its
/// grub.cfg (<see cref="DefaultCommandLine"/>).
/// </param>
/// <param name="Deadline">Wall-clock limit for the boot; the host kills the guest when it passes.</param>
/// <param name="Label">Names the boot in logs and failure messages (e.g. the test's name).</param>
public sealed record BootRequest(BootMedium Medium, string? KernelCommandLine, TimeSpan Deadline, string Label)
{
    /// <summary>The command line the ISO's grub.cfg passes, and the PVH default: one module, 128 MiB.</summary>
    public const string DefaultCommandLine = "modules=1 mem=128";

    /// <summary>True to boot PVH without build/testmodule.bin (a missing-module test); the ISO always has it.</summary>
    public bool WithoutModule { get; init; }

    /// <summary>Extra hostsim options (e.g. --profile, --on-denial, --pin, --boot pvh); other hosts ignore them.</summary>
    public IReadOnlyList<string> HostSimArguments { get; init; } = [];

    /// <summary>A PVH boot with <paramref name="extraArguments"/> appended to the default arguments.</summary>
    public static BootRequest Pvh(string label, TimeSpan deadline, string? extraArguments = null) =>
        new(BootMedium.Pvh, Join(DefaultCommandLine, extraArguments), deadline, label);

    /// <summary>An ISO boot (command line from grub.cfg).</summary>
    public static BootRequest Iso(string label, TimeSpan deadline) => new(BootMedium.Iso, null, deadline, label);

    private static string Join(string baseline, string? extra) =>
        string.IsNullOrWhiteSpace(extra) ? baseline : $"{baseline} {extra.Trim()}";
}
