namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>
/// --qmp unix:PATH[,server[=on]][,wait=on|off][,nowait], QEMU's chardev spelling. hostsim is
/// always the server; without wait=off (or nowait) the VM does not start until a client connects.
/// </summary>
public sealed record QmpEndpoint(string Path, bool Wait)
{
    /// <summary>Parses the option; throws <see cref="FormatException"/> with a one-line reason.</summary>
    public static QmpEndpoint Parse(string text)
    {
        if (!text.StartsWith("unix:", StringComparison.Ordinal))
            throw new FormatException($"'{text}': only unix:PATH[,server,wait=off] is supported");
        var parts = text["unix:".Length..].Split(',');
        string path = parts[0];
        if (path.Length == 0) throw new FormatException($"'{text}': the socket path is empty");
        bool server = false, wait = true;
        foreach (var p in parts.Skip(1))
        {
            switch (p)
            {
                case "server" or "server=on": server = true; break;
                case "wait=off" or "nowait": wait = false; break;
                case "wait=on": wait = true; break;
                case "server=off": throw new FormatException($"'{text}': client mode (server=off) is not supported; hostsim listens");
                default: throw new FormatException($"'{text}': unknown option '{p}' (server, wait=on, wait=off)");
            }
        }
        if (!server) throw new FormatException($"'{text}': add ',server' (hostsim listens; client mode is not supported)");
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 107) throw new FormatException($"'{text}': the socket path is longer than 107 bytes");
        return new QmpEndpoint(path, wait);
    }
}
