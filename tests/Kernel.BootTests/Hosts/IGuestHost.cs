namespace HekiGuest.Tests.Boot;

/// <summary>
/// Something that boots the kernel and hands back its serial transcript: QEMU now
/// (<see cref="QemuHost"/>), the bundled simulator hostsim later. Boot tests are written against this
/// interface so the same assertions run on every host, and the result sets of two hosts can be
/// compared (<see cref="ResultSetComparison"/>).
/// </summary>
public interface IGuestHost
{
    /// <summary>Short host name for messages ("qemu").</summary>
    string Name { get; }

    /// <summary>Whether this host can boot <paramref name="medium"/> (hostsim will not boot the ISO).</summary>
    bool Supports(BootMedium medium);

    /// <summary>
    /// Boots, waits until the guest exits or <see cref="BootRequest.Deadline"/> passes (then kills the
    /// host's whole process tree), and returns the outcome. Throws <see cref="BootSetupException"/>
    /// when the boot cannot be attempted at all.
    /// </summary>
    Task<BootOutcome> BootAsync(BootRequest request, CancellationToken cancellationToken = default);
}
