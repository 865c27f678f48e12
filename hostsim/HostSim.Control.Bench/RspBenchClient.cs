using System.Net;
using System.Net.Sockets;
using System.Text;
using HekiGuest.HostSim.Gdb;

namespace HekiGuest.HostSim.Control.Bench;

/// <summary>The least of a gdb for the bench: connects, turns acks off, sends packets and reads replies.</summary>
internal sealed class RspBenchClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] _buffer = new byte[65536];
    private readonly StringBuilder _pending = new();
    private bool _acks = true;

    /// <summary>Connects; with <paramref name="noAck"/> switches acks off first (needs the VM to be stopped for gdb already).</summary>
    public RspBenchClient(int port, bool noAck = true)
    {
        _socket.Connect(IPAddress.Loopback, port);
        if (!noAck) return;
        if (Ask("QStartNoAckMode") != "OK") throw new InvalidOperationException("no QStartNoAckMode");
        _acks = false;
    }

    public void Send(string payload) => _socket.Send(RspCodec.Frame(payload));

    // in ack mode the stub's '+' bytes before a reply are skipped by Reply (it looks for '$')

    public string Ask(string payload)
    {
        Send(payload);
        return Reply();
    }

    public string Reply()
    {
        while (true)
        {
            string s = _pending.ToString();
            int start = s.IndexOf('$');
            int hash = start < 0 ? -1 : s.IndexOf('#', start);
            if (hash >= 0 && s.Length >= hash + 3)
            {
                _pending.Remove(0, hash + 3);
                if (_acks) _socket.Send("+"u8.ToArray());
                return s[(start + 1)..hash];
            }
            int n = _socket.Receive(_buffer);
            if (n == 0) throw new InvalidOperationException("the stub closed the connection");
            _pending.Append(Encoding.Latin1.GetString(_buffer, 0, n));
        }
    }

    public void Dispose() => _socket.Dispose();
}
