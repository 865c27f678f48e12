namespace HekiGuest.Tests.Boot;

/// <summary>How the kernel image reaches the guest.</summary>
public enum BootMedium
{
    /// <summary>build/kernel.elf entered through its PVH note, build/testmodule.bin as the module.</summary>
    Pvh,

    /// <summary>build/hekiguest.iso: SeaBIOS or OVMF, then GRUB loads the kernel through multiboot2.</summary>
    Iso,
}
