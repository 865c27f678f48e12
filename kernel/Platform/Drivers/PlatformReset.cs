using HekiGuest.Platform.Arch;

namespace HekiGuest.Platform.Drivers;

// Asking the platform for a reset, as PC operating systems do: the chipset's reset control
// register (port 0xCF9: SYS_RST, then SYS_RST | RST_CPU for a hard reset), then the 8042's reset
// pulse (0xFE to port 0x64) for a machine without that register. On a platform that resets,
// neither call returns; both return when nothing resets (QEMU with -no-reboot exits instead).
public static class PlatformReset
{
    public const ushort ResetControlPort = 0xCF9, KeyboardCommandPort = 0x64;
    public const byte SystemReset = 0x02, ResetCpu = 0x04, PulseResetLine = 0xFE;

    public static void ThroughResetControl()
    {
        Native.OutB(ResetControlPort, SystemReset);
        Native.OutB(ResetControlPort, SystemReset | ResetCpu);
    }

    public static void ThroughKeyboardController() => Native.OutB(KeyboardCommandPort, PulseResetLine);
}
