namespace HekiGuest.HostSim.Control.Tests.Support;

/// <summary>A temporary directory for kernels, policy files, event files and sockets.</summary>
internal sealed class TempFiles : IDisposable
{
    // short: a Unix socket path must stay under 108 bytes
    public string Root { get; } = System.IO.Path.Combine("/tmp", $"hsc-{Guid.NewGuid():N}"[..12]);

    public TempFiles() => Directory.CreateDirectory(Root);

    public string Path(string name) => System.IO.Path.Combine(Root, name);

    public string Write(string name, byte[] bytes)
    {
        File.WriteAllBytes(Path(name), bytes);
        return Path(name);
    }

    public string Write(string name, string text)
    {
        File.WriteAllText(Path(name), text);
        return Path(name);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
