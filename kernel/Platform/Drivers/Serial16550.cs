using HekiGuest.Platform.Arch;

namespace HekiGuest.Platform.Drivers;

// A 16550 UART driven by polling: 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on.
public sealed class Serial16550 : ITextSink
{
    public const ushort Com1 = 0x3F8;
    private const int Data = 0, InterruptEnable = 1, FifoControl = 2, LineControl = 3,
        ModemControl = 4, LineStatus = 5, Scratch = 7;
    private const byte LineStatusTransmitEmpty = 0x20;
    private const int SpinLimit = 100000;

    public readonly ushort Base;
    public ulong BytesWritten;
    public ulong TransmitTimeouts;

    public Serial16550(ushort basePort)
    {
        Base = basePort;
    }

    public void Initialize()
    {
        Native.OutB((ushort)(Base + InterruptEnable), 0x00);
        Native.OutB((ushort)(Base + LineControl), 0x80);          // DLAB on
        Native.OutB((ushort)(Base + Data), 0x01);                 // divisor 1 = 115200 baud
        Native.OutB((ushort)(Base + InterruptEnable), 0x00);
        Native.OutB((ushort)(Base + LineControl), 0x03);          // DLAB off, 8N1
        Native.OutB((ushort)(Base + FifoControl), 0xC7);          // FIFO on, cleared, 14-byte trigger
        Native.OutB((ushort)(Base + ModemControl), 0x03);         // DTR, RTS
    }

    public byte ReadLineStatus() => Native.InB((ushort)(Base + LineStatus));
    public byte ReadLineControl() => Native.InB((ushort)(Base + LineControl));

    public ushort ReadDivisor()
    {
        byte lcr = ReadLineControl();
        Native.OutB((ushort)(Base + LineControl), (byte)(lcr | 0x80));
        ushort divisor = (ushort)(Native.InB((ushort)(Base + Data)) | (Native.InB((ushort)(Base + InterruptEnable)) << 8));
        Native.OutB((ushort)(Base + LineControl), lcr);
        return divisor;
    }

    public byte ScratchRoundTrip(byte value)
    {
        Native.OutB((ushort)(Base + Scratch), value);
        return Native.InB((ushort)(Base + Scratch));
    }

    public void Put(byte b)
    {
        int spins = 0;
        while ((Native.InB((ushort)(Base + LineStatus)) & LineStatusTransmitEmpty) == 0)
        {
            // A wedged or absent UART must not hang the kernel: drop after a bounded wait.
            if (++spins > SpinLimit) { TransmitTimeouts++; return; }
            Native.Pause();
        }
        Native.OutB((ushort)(Base + Data), b);
        BytesWritten++;
    }
}
