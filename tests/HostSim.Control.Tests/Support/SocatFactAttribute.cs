namespace HekiGuest.HostSim.Control.Tests.Support;

/// <summary>A fact that needs Debian's socat; skipped, with the reason, when it is not installed.</summary>
public sealed class SocatFactAttribute : FactAttribute
{
    public SocatFactAttribute()
    {
        if (Socat.Path is null) Skip = "socat is not installed (make deps-qmp installs it)";
    }
}

/// <summary>Where socat is, if anywhere on PATH.</summary>
public static class Socat
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "socat"))
        .FirstOrDefault(File.Exists);
}
