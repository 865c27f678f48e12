using System.Diagnostics;
using System.Text;

namespace HekiGuest.HostSim.Control.Tests.Support;

/// <summary>What one finished `hostsim` process did.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs `hostsim run` (the CLI next to the test assembly as a separate process, `dotnet hostsim.dll run ARGS`),
/// so exit codes and output are what a user sees; <see cref="Start"/> leaves it running for a
/// QMP client.
/// </summary>
internal sealed class HostSimProcess : IDisposable
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "hostsim.dll");
    private readonly Process _process;
    private readonly Task<string> _stdout, _stderr;

    private HostSimProcess(string[] args)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: the test project should copy the referenced CLI");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Dll);
        start.ArgumentList.Add("run");
        foreach (var a in args) start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        _process.StandardInput.Close();
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public static HostSimProcess Start(params string[] args) => new(args);

    public static CliResult Run(params string[] args)
    {
        using var p = new HostSimProcess(args);
        return p.WaitForExit(TimeSpan.FromSeconds(120));
    }

    public bool HasExited => _process.HasExited;

    public CliResult WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"hostsim did not finish in {timeout.TotalSeconds} s; stderr so far unavailable");
        }
        _process.WaitForExit();
        return new CliResult(_process.ExitCode, _stdout.Result, _stderr.Result);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
