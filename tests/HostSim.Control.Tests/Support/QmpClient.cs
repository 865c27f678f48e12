using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Tests.Support;

/// <summary>
/// A minimal QMP client over a real Unix socket, as a QMP library would be: reads the greeting,
/// sends JSON texts, and separates replies from asynchronous events (kept in <see cref="Events"/>).
/// </summary>
internal sealed class QmpClient : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly Socket _socket;
    private readonly StringBuilder _pending = new();
    private readonly byte[] _buffer = new byte[65536];

    private QmpClient(Socket socket)
    {
        _socket = socket;
        Greeting = ReadMessage();
    }

    public JsonObject Greeting { get; }
    public List<JsonObject> Events { get; } = [];

    /// <summary>Connects once the socket exists (hostsim may still be starting).</summary>
    public static QmpClient Connect(string path, HostSimProcess? process = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                s.Connect(new UnixDomainSocketEndPoint(path));
                s.ReceiveTimeout = (int)Wait.TotalMilliseconds;
                return new QmpClient(s);
            }
            catch (SocketException) when (clock.Elapsed < Wait && process is not { HasExited: true })
            {
                s.Dispose();
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Connects and negotiates capabilities.</summary>
    public static QmpClient Negotiated(string path, HostSimProcess? process = null)
    {
        var c = Connect(path, process);
        var r = c.Execute("qmp_capabilities");
        Assert.True(r.ContainsKey("return"), r.ToJsonString());
        return c;
    }

    public void SendRaw(string text) => _socket.Send(Encoding.UTF8.GetBytes(text));

    public void SendBytes(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    /// <summary>Sends {"execute": ...} and returns the reply (events met meanwhile are kept).</summary>
    public JsonObject Execute(string command, JsonObject? arguments = null, JsonNode? id = null)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        if (id is not null) request["id"] = id;
        SendRaw(request.ToJsonString() + "\n");
        return ReadReply();
    }

    public JsonObject ReadReply()
    {
        while (true)
        {
            var m = ReadMessage();
            if (m.ContainsKey("event")) { Events.Add(m); continue; }
            return m;
        }
    }

    /// <summary>The first event named <paramref name="name"/> not yet taken (waits for it).</summary>
    public JsonObject WaitEvent(string name)
    {
        while (true)
        {
            int i = Events.FindIndex(e => (string?)e["event"] == name);
            if (i >= 0)
            {
                var e = Events[i];
                Events.RemoveAt(i);
                return e;
            }
            var m = ReadMessage();
            Assert.True(m.ContainsKey("event"), $"waiting for event {name}, got a reply: {m.ToJsonString()}");
            Events.Add(m);
        }
    }

    /// <summary>The next message; the connection closing ends with an assertion failure.</summary>
    public JsonObject ReadMessage() => TryReadMessage() ?? throw new IOException("hostsim closed the QMP connection");

    /// <summary>The next message, or null when hostsim closed the connection.</summary>
    public JsonObject? TryReadMessage()
    {
        while (true)
        {
            string text = _pending.ToString();
            int nl = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (nl >= 0)
            {
                _pending.Remove(0, nl + 2);
                return JsonNode.Parse(text[..nl])!.AsObject();
            }
            int n = _socket.Receive(_buffer);
            if (n == 0) return null;
            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    public void Dispose() => _socket.Dispose();
}
