using System.Globalization;
using System.Net;

namespace HekiGuest.HostSim.Gdb;

/// <summary>--gdb as QEMU spells it: tcp::PORT (127.0.0.1) or tcp:HOST:PORT.</summary>
public sealed record GdbEndpoint(IPAddress Address, int Port)
{
    /// <summary>Parses the option; <see cref="FormatException"/> with a one-line reason.</summary>
    public static GdbEndpoint Parse(string text)
    {
        if (!text.StartsWith("tcp:", StringComparison.Ordinal))
            throw new FormatException($"{text}: expected tcp::PORT or tcp:HOST:PORT");
        string rest = text[4..];
        int colon = rest.LastIndexOf(':');
        if (colon < 0) throw new FormatException($"{text}: expected tcp::PORT or tcp:HOST:PORT");
        string host = rest[..colon], portText = rest[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 0 or > 65535)
            throw new FormatException($"{text}: '{portText}' is not a TCP port (0 to 65535)");
        IPAddress address;
        if (host.Length == 0 || host == "localhost") address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host.Trim('[', ']'), out address!))
            throw new FormatException($"{text}: '{host}' is not an IP address (or localhost)");
        return new GdbEndpoint(address, port);
    }

    public override string ToString() => $"{Address}:{Port}";
}
