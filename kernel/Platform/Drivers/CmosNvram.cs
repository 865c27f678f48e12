using HekiGuest.Platform.Arch;

namespace HekiGuest.Platform.Drivers;

// The PC's CMOS NVRAM through the RTC's index/data ports (0x70/0x71): registers 0x0E-0x7F are
// battery-backed RAM that a platform reset keeps, the one place a PC guest can leave a value for
// its next boot. NMIs stay unmasked (bit 7 of the index clear), as the firmware left them.
public static class CmosNvram
{
    public const ushort IndexPort = 0x70, DataPort = 0x71;
    public const byte FirstByte = 0x0E, LastByte = 0x7F;

    // False for a register outside the NVRAM (the clock, its status registers, or past 0x7F).
    public static bool TryRead(byte register, out byte value)
    {
        value = 0;
        if (register < FirstByte || register > LastByte) return false;
        Native.OutB(IndexPort, register);
        value = Native.InB(DataPort);
        return true;
    }

    public static bool TryWrite(byte register, byte value)
    {
        if (register < FirstByte || register > LastByte) return false;
        Native.OutB(IndexPort, register);
        Native.OutB(DataPort, value);
        return true;
    }
}
