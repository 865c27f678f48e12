namespace HekiGuest.Tests.Boot;

/// <summary>Which entry of the ISO's grub.cfg (kernel/grub.cfg.in) boots.</summary>
public enum IsoEntry
{
    /// <summary>
    /// The boot tests' entry: <see cref="BootRequest.DefaultCommandLine"/> and the test module.
    /// QEMU selects it with <c>-smbios type=1,serial=</c><see cref="BootRequest.SelfTestSmbiosSerial"/>.
    /// </summary>
    SelfTest,

    /// <summary>The entry a user boots: no command line, no module, so no check of what the host gave.</summary>
    Default,
}
