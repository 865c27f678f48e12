namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// A 16550 UART as far as a polling driver sees it: the transmitter is always ready, bytes go to
/// <see cref="Transmit"/>; divisor latch, line/modem control and scratch registers hold their
/// values; nothing is ever received.
/// </summary>
public sealed class Uart16550(ushort basePort, Action<byte> transmit) : IPortDevice
{
    private byte _ier, _lcr, _mcr, _scratch, _dll = 1, _dlm;

    public ushort Base { get; } = basePort;
    public ushort Count => 8;
    public long BytesTransmitted { get; private set; }
    private Action<byte> Transmit { get; } = transmit;

    private bool Dlab => (_lcr & 0x80) != 0;

    public uint Read(ushort offset, int size) => offset switch
    {
        0 => Dlab ? _dll : 0u,
        1 => Dlab ? _dlm : _ier,
        2 => 0xC1,                // FIFOs enabled, no interrupt pending
        3 => _lcr,
        4 => _mcr,
        5 => 0x60,                // THR empty, transmitter empty
        6 => 0xB0,                // CTS, DSR, DCD
        _ => _scratch,
    };

    public void Write(ushort offset, int size, uint value)
    {
        byte b = (byte)value;
        switch (offset)
        {
            case 0:
                if (Dlab) _dll = b;
                else { BytesTransmitted++; Transmit(b); }
                break;
            case 1: if (Dlab) _dlm = b; else _ier = (byte)(b & 0x0F); break;
            case 3: _lcr = b; break;
            case 4: _mcr = (byte)(b & 0x1F); break;
            case 7: _scratch = b; break;
        }
    }
}
