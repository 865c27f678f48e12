namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// The MC146818-compatible CMOS RTC at ports 0x70 (index; bit 7 is the NMI mask, bits 6:0 the
/// register) and 0x71 (data): registers 0x00-0x0D are the clock and its status registers, and
/// 0x0E-0x7F are the 114 bytes of battery-backed NVRAM, which keep their values across a platform
/// reset (the device is not reset with the machine). The clock reads a fixed time, 2000-01-01
/// 00:00:00, a Saturday, in BCD and 24-hour mode (status B 0x02), and does not tick: a
/// simulated machine's runs stay reproducible. A guest may write the clock registers and reads
/// back what it wrote (bytes are stored as written: switching status B's binary bit converts
/// nothing, as on the chip). Status A reads 0x26 with update-in-progress never set, status C 0
/// (no interrupt flags; the RTC raises no interrupts), status D 0x80 (valid RAM and time).
/// NVRAM byte 0x32 (the century, by convention) starts at 0x20; every other NVRAM byte starts 0.
/// Reading port 0x70 returns all ones (the index register is write-only).
/// </summary>
public sealed class CmosRtc(ushort basePort = CmosRtc.DefaultPort) : IPortDevice
{
    public const ushort DefaultPort = 0x70;
    public const int Registers = 128, FirstNvramByte = 0x0E, NvramBytes = Registers - FirstNvramByte;
    public const byte StatusA = 0x0A, StatusB = 0x0B, StatusC = 0x0C, StatusD = 0x0D, Century = 0x32;
    private readonly byte[] _bytes = PowerOn();
    private byte _index;

    public ushort Base { get; } = basePort;
    public ushort Count => 2;

    /// <summary>The register index selected through port 0x70 (bits 6:0).</summary>
    public byte Index => _index;

    /// <summary>Whether the last index write set bit 7 (NMIs masked; hostsim has no NMI source).</summary>
    public bool NmiMasked { get; private set; }

    /// <summary>Register <paramref name="register"/> (0-127) as the guest would read it.</summary>
    public byte this[int register] => ReadRegister(register & 0x7F);

    public uint Read(ushort offset, int size)
    {
        if (size != 1 || offset == 0) return 0xFFFF_FFFFu >> (32 - 8 * size);
        return ReadRegister(_index);
    }

    public void Write(ushort offset, int size, uint value)
    {
        if (size != 1) return;
        byte b = (byte)value;
        if (offset == 0)
        {
            _index = (byte)(b & 0x7F);
            NmiMasked = (b & 0x80) != 0;
            return;
        }
        switch (_index)
        {
            case StatusA: _bytes[StatusA] = (byte)((_bytes[StatusA] & 0x80) | (b & 0x7F)); break;   // UIP is read-only
            case StatusC or StatusD: break;                                                        // read-only
            default: _bytes[_index] = b; break;
        }
    }

    private byte ReadRegister(int register) => register switch
    {
        StatusC => 0,
        StatusD => 0x80,
        _ => _bytes[register],
    };

    private static byte[] PowerOn()
    {
        var b = new byte[Registers];
        // seconds, alarm, minutes, alarm, hours, alarm, day of week, day, month, year (BCD)
        b[0x06] = 0x07;   // Saturday (1 = Sunday)
        b[0x07] = 0x01;
        b[0x08] = 0x01;
        b[0x09] = 0x00;
        b[StatusA] = 0x26;
        b[StatusB] = 0x02;
        b[Century] = 0x20;
        return b;
    }
}
