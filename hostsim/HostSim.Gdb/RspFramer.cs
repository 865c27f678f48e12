using System.Text;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// Splits the byte stream from gdb into packets ($...#cc), acks, nacks and Ctrl-C. Bytes between
/// packets other than '+', '-' and 0x03 are ignored (as gdbserver does); a packet longer than
/// <see cref="MaxPayload"/> or with a bad or non-hex checksum is reported as
/// <see cref="RspFrameKind.BadPacket"/>. Never throws on input.
/// </summary>
public sealed class RspFramer
{
    /// <summary>The largest payload accepted (the PacketSize advertised in qSupported).</summary>
    public const int MaxPayload = 0x4000;

    private readonly List<byte> _payload = [];
    private State _state = State.Idle;
    private int _checksumHigh;
    private bool _overflow;

    private enum State { Idle, Payload, Checksum1, Checksum2 }

    public IEnumerable<RspFrame> Feed(byte[] buffer, int count)
    {
        var frames = new List<RspFrame>();
        for (int i = 0; i < count; i++)
        {
            byte b = buffer[i];
            switch (_state)
            {
                case State.Idle:
                    if (b == (byte)'$')
                    {
                        _payload.Clear();
                        _overflow = false;
                        _state = State.Payload;
                    }
                    else if (b == (byte)'+') frames.Add(new RspFrame(RspFrameKind.Ack));
                    else if (b == (byte)'-') frames.Add(new RspFrame(RspFrameKind.Nack));
                    else if (b == 0x03) frames.Add(new RspFrame(RspFrameKind.Interrupt));
                    break;
                case State.Payload:
                    if (b == (byte)'#') _state = State.Checksum1;
                    else if (_payload.Count < MaxPayload) _payload.Add(b);
                    else _overflow = true;
                    break;
                case State.Checksum1:
                    _checksumHigh = RspCodec.HexValue((char)b);
                    _state = State.Checksum2;
                    break;
                case State.Checksum2:
                    int low = RspCodec.HexValue((char)b);
                    _state = State.Idle;
                    var payload = _payload.ToArray();
                    bool good = !_overflow && _checksumHigh >= 0 && low >= 0 && RspCodec.Checksum(payload) == ((_checksumHigh << 4) | low);
                    frames.Add(good ? new RspFrame(RspFrameKind.Packet, Encoding.Latin1.GetString(payload)) : new RspFrame(RspFrameKind.BadPacket));
                    break;
            }
        }
        return frames;
    }
}
