using System.Net;
using System.Net.Sockets;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// The TCP side of the stub: listens on the --gdb address, serves one gdb at a time (a second
/// waits in the backlog until the first goes), acknowledges packets ('+', '-' for a bad checksum,
/// until QStartNoAckMode), retransmits on '-', and hands packets and Ctrl-C to the
/// <see cref="GdbStub"/>. A client that disconnects leaves the VM to the stub (it runs on, free
/// of gdb's breakpoints) and the next one can attach.
/// </summary>
public sealed class GdbServer : IDisposable
{
    private readonly TcpListener _listener;
    private Thread? _thread;
    private volatile bool _closed;

    /// <summary>Binds and listens; <see cref="SocketException"/> when the address cannot be used (a port in use).</summary>
    public GdbServer(GdbEndpoint endpoint)
    {
        _listener = new TcpListener(endpoint.Address, endpoint.Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        _listener.Start(1);
    }

    /// <summary>The port actually bound (useful with port 0).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Start(GdbStub stub)
    {
        _thread = new Thread(() => Serve(stub)) { IsBackground = true, Name = "gdb" };
        _thread.Start();
    }

    private void Serve(GdbStub stub)
    {
        while (!_closed)
        {
            Socket socket;
            try
            {
                socket = _listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            socket.NoDelay = true;
            using var connection = new Connection(socket);
            stub.ClientConnected(connection);
            try
            {
                var framer = new RspFramer();
                var buffer = new byte[4096];
                while (true)
                {
                    int n = socket.Receive(buffer);
                    if (n == 0) break;
                    foreach (var frame in framer.Feed(buffer, n))
                    {
                        switch (frame.Kind)
                        {
                            case RspFrameKind.Packet:
                                connection.Acknowledge(true);
                                stub.Received(frame.Payload);
                                break;
                            case RspFrameKind.BadPacket:
                                connection.Acknowledge(false);
                                break;
                            case RspFrameKind.Nack:
                                connection.Retransmit();
                                break;
                            case RspFrameKind.Interrupt:
                                stub.InterruptRequested();
                                break;
                        }
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                // the client went away
            }
            finally
            {
                stub.ClientGone(connection);
            }
        }
    }

    public void Dispose()
    {
        _closed = true;
        _listener.Stop();
    }

    private sealed class Connection(Socket socket) : IRspChannel, IDisposable
    {
        private readonly object _send = new();
        private byte[]? _last;

        public bool NoAck { get; set; }

        public void Send(string payload)
        {
            var packet = RspCodec.Frame(payload);
            lock (_send)
            {
                _last = packet;
                Write(packet);
            }
        }

        public void Acknowledge(bool good)
        {
            if (NoAck) return;
            lock (_send) Write([(byte)(good ? '+' : '-')]);
        }

        public void Retransmit()
        {
            if (NoAck) return;
            lock (_send)
            {
                if (_last is { } packet) Write(packet);
            }
        }

        private void Write(byte[] bytes)
        {
            try
            {
                socket.Send(bytes);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the reader sees the disconnect
            }
        }

        public void Dispose()
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            socket.Dispose();
        }
    }
}
