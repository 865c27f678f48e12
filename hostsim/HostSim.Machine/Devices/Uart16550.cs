namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// A 16550 UART as far as a polling driver sees it: the transmitter is always ready, bytes go to
/// <see cref="Transmit"/>; divisor latch, line/modem control and scratch registers hold their
/// values; nothing arrives from outside. In loopback mode (MCR bit 4) a transmitted byte is
/// received back instead of going out and the modem status inputs follow the modem control
/// outputs, which is how drivers probe for a working chip. FCR bit 0 switches the FIFOs (IIR
/// bits 7:6 say so).
/// </summary>
public sealed class Uart16550(ushort basePort, Action<byte> transmit) : IPortDevice
{
    private const byte LsrDataReady = 0x01, LsrOverrun = 0x02, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private byte _ier, _lcr, _mcr, _scratch, _dll = 1, _dlm;
    private bool _fifos, _overrun;
    private Queue<byte>? _receivedQueue;   // loopback only; created when first used
    private Queue<byte> Received => _receivedQueue ??= new();

    public ushort Base { get; } = basePort;
    public ushort Count => 8;
    public long BytesTransmitted { get; private set; }
    private Action<byte> Transmit { get; } = transmit;

    private bool Dlab => (_lcr & 0x80) != 0;
    private bool Loopback => (_mcr & 0x10) != 0;

    public uint Read(ushort offset, int size) => offset switch
    {
        0 => Dlab ? _dll : _receivedQueue is { } q && q.TryDequeue(out byte b) ? b : 0u,
        1 => Dlab ? _dlm : _ier,
        2 => _fifos ? 0xC1u : 0x01u,   // FIFO state, no interrupt pending
        3 => _lcr,
        4 => _mcr,
        5 => LineStatus(),
        6 => ModemStatus(),
        _ => _scratch,
    };

    public void Write(ushort offset, int size, uint value)
    {
        byte b = (byte)value;
        switch (offset)
        {
            case 0:
                if (Dlab) _dll = b;
                else if (Loopback) Receive(b);
                else { BytesTransmitted++; Transmit(b); }
                break;
            case 1: if (Dlab) _dlm = b; else _ier = (byte)(b & 0x0F); break;
            case 2:
                _fifos = (b & 0x01) != 0;
                if (!_fifos || (b & 0x02) != 0) _receivedQueue?.Clear();
                break;
            case 3: _lcr = b; break;
            case 4: _mcr = (byte)(b & 0x1F); break;
            case 7: _scratch = b; break;
        }
    }

    private void Receive(byte b)
    {
        if (Received.Count >= (_fifos ? 16 : 1)) { _overrun = true; return; }
        Received.Enqueue(b);
    }

    private uint LineStatus()
    {
        uint lsr = LsrThrEmpty | LsrTransmitterEmpty;
        if (_receivedQueue is { Count: > 0 }) lsr |= LsrDataReady;
        if (_overrun) lsr |= LsrOverrun;
        _overrun = false;                 // reading LSR clears the error bits
        return lsr;
    }

    // Loopback wires RTS to CTS, DTR to DSR, OUT1 to RI and OUT2 to DCD; otherwise the line is
    // up (CTS, DSR, DCD) with no ring and no changes.
    private uint ModemStatus() => Loopback
        ? (uint)(((_mcr & 0x02) << 3) | ((_mcr & 0x01) << 5) | ((_mcr & 0x04) << 4) | ((_mcr & 0x08) << 4))
        : 0xB0u;
}
