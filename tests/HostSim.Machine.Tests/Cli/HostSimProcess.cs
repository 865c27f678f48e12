using System.Diagnostics;
using System.Text;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>
/// Runs the hostsim CLI as a separate process (`dotnet hostsim.dll ...`), the build of it that sits
/// next to the test assembly (the test project references HostSim.Cli), so exit codes, stdout and
/// stderr are exactly what a user sees.
/// </summary>
internal static class HostSimProcess
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "hostsim.dll");

    public static CliResult Run(params string[] args)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: the test project should copy the referenced CLI");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"hostsim {string.Join(' ', args)} did not finish in 120 s");
        }
        p.WaitForExit();
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
