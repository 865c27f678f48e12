using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>
/// The QMP control socket: listens on a Unix socket and serves one client at a time (like a QEMU
/// chardev server; the next waits in the backlog). Each client gets the greeting, then its
/// requests are answered in order on the server thread; events go out through a bounded queue
/// and a writer thread, so a client that stops reading never blocks the VM (events beyond
/// <see cref="MaxQueued"/> are dropped and counted). Messages end with "\r\n" as QEMU's do.
/// </summary>
public sealed class QmpServer : IControlEvents, IDisposable
{
    public const int MaxQueued = 4096;

    private readonly string _path;
    private readonly Socket _listener;
    private readonly ManualResetEventSlim _clientArrived = new();
    private readonly object _dispatchLock = new();
    private Thread? _thread;
    private volatile Client? _client;
    private volatile bool _disposed;
    private QmpDispatcher? _dispatcher;

    /// <summary>Binds and listens (a stale socket file at the path is replaced, as QEMU does).</summary>
    public QmpServer(string path)
    {
        _path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // a socket left by an earlier run (an empty inode); anything with content is not replaced
            if (File.Exists(path) && new FileInfo(path).Length == 0) TryDelete(path);
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(4);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    /// <summary>Events dropped because a client did not read them.</summary>
    public long DroppedEvents => Interlocked.Read(ref _dropped);
    private long _dropped;

    /// <summary>True while a client that finished capabilities negotiation is connected.</summary>
    public bool HasClient => _client is { State.Negotiated: true };

    /// <summary>Raised on the server thread when a client disconnects.</summary>
    public event Action? ClientDisconnected;

    /// <summary>Starts serving with <paramref name="dispatcher"/>.</summary>
    public void Start(QmpDispatcher dispatcher)
    {
        _dispatcher = dispatcher;
        _thread = new Thread(Serve) { IsBackground = true, Name = "qmp" };
        _thread.Start();
    }

    /// <summary>Blocks until a client has connected (QEMU's wait=on).</summary>
    public void WaitForClient() => _clientArrived.Wait();

    public void Publish(string name, JsonObject? data)
    {
        if (_client is { State.Negotiated: true } c) c.Send(QmpMessages.Event(name, data, DateTimeOffset.UtcNow), ref _dropped);
    }

    /// <summary>Publishes the last events once any request in progress has had its reply
    /// queued (so QMP quit's reply comes before SHUTDOWN), then closes the connection.</summary>
    public void Close(Action publishLast)
    {
        bool locked = Monitor.TryEnter(_dispatchLock, TimeSpan.FromSeconds(5));
        try
        {
            publishLast();
        }
        finally
        {
            if (locked) Monitor.Exit(_dispatchLock);
        }
        Dispose();
    }

    private void Serve()
    {
        while (!_disposed)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            var client = new Client(socket);
            _client = client;
            _clientArrived.Set();
            try
            {
                client.Send(QmpMessages.Greeting(), ref _dropped);
                ServeClient(client);
            }
            finally
            {
                _client = null;
                client.Dispose();
                ClientDisconnected?.Invoke();
            }
        }
    }

    private void ServeClient(Client client)
    {
        var framer = new QmpFramer();
        var buffer = new byte[8192];
        while (!_disposed)
        {
            int n;
            try
            {
                n = client.Socket.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            if (n == 0) return;
            foreach (var text in framer.Push(buffer.AsSpan(0, n)))
            {
                lock (_dispatchLock)
                {
                    if (_disposed) return;
                    client.Send(_dispatcher!.Handle(text, client.State), ref _dropped, reply: true);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _clientArrived.Set();
        try { _listener.Dispose(); } catch (SocketException) { }
        _client?.Dispose();
        _thread?.Join(TimeSpan.FromSeconds(2));
        TryDelete(_path);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private sealed class Client : IDisposable
    {
        private readonly BlockingCollection<string> _out = new(MaxQueued);
        private readonly Thread _writer;
        private int _disposed;

        public Client(Socket socket)
        {
            Socket = socket;
            _writer = new Thread(Write) { IsBackground = true, Name = "qmp-writer" };
            _writer.Start();
        }

        public Socket Socket { get; }
        public QmpSessionState State { get; } = new();

        /// <summary>Queues a message; a reply waits for room, an event is dropped when the queue is full.</summary>
        public void Send(string message, ref long dropped, bool reply = false)
        {
            try
            {
                if (reply ? _out.TryAdd(message, TimeSpan.FromSeconds(10)) : _out.TryAdd(message)) return;
            }
            catch (InvalidOperationException)
            {
                // the client is gone (adding completed)
            }
            Interlocked.Increment(ref dropped);
        }

        private void Write()
        {
            try
            {
                foreach (var message in _out.GetConsumingEnumerable())
                {
                    Socket.Send(Encoding.UTF8.GetBytes(message + "\r\n"));
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the client went away; what it did not read is lost, the VM is unaffected
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _out.CompleteAdding();
            // let queued messages (a last reply, SHUTDOWN) reach a client that is still reading
            _writer.Join(TimeSpan.FromSeconds(2));
            try { Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            Socket.Dispose();
        }
    }
}
