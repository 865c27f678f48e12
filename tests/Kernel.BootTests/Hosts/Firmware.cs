namespace HekiGuest.Tests.Boot;

/// <summary>The firmware QEMU starts before an ISO boot.</summary>
public enum Firmware
{
    /// <summary>QEMU's default BIOS (SeaBIOS): GRUB's i386-pc El Torito image boots.</summary>
    SeaBios,

    /// <summary>UEFI (OVMF, Debian's <c>ovmf</c> package): GRUB's x86_64-efi image boots from the ISO's EFI partition.</summary>
    Ovmf,
}
