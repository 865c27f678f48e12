using System.Diagnostics;

namespace HekiGuest.Tests.Build;

/// <summary>Runs a command to completion (with a deadline) and keeps its exit code and output.</summary>
public sealed record ProcessResult(int ExitCode, string Output)
{
    public static ProcessResult Run(string file, string arguments, string workingDirectory, TimeSpan deadline)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(deadline))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} did not finish within {deadline.TotalSeconds} s");
        }
        return new ProcessResult(p.ExitCode, stdout.Result + stderr.Result);
    }
}
