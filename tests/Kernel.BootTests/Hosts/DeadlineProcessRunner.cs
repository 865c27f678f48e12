using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Runs a program with a deadline. On the deadline it kills the program's whole process tree (a
/// wrapper script's children included), so a hung guest never outlives its test.
/// </summary>
public static class DeadlineProcessRunner
{
    /// <summary>How long to wait for stdout/stderr to close after a kill before giving up on them.</summary>
    private static readonly TimeSpan DrainAfterKill = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> (stdin closed, stdout and
    /// stderr captured) and waits for it to exit or for <paramref name="deadline"/> to pass.
    /// </summary>
    /// <exception cref="BootSetupException">The program cannot be started.</exception>
    public static async Task<ProcessRunResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan deadline,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        var stopwatch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception error)
        {
            throw new BootSetupException($"cannot start '{fileName}': {error.Message}", error);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        var timedOut = false;
        using (var deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadlineSource.CancelAfter(deadline);
            try
            {
                await process.WaitForExitAsync(deadlineSource.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = !cancellationToken.IsCancellationRequested;
                KillTree(process);
                if (!timedOut)
                {
                    throw;
                }
            }
        }

        stopwatch.Stop();
        var output = await DrainAsync(stdout).ConfigureAwait(false);
        var errorOutput = await DrainAsync(stderr).ConfigureAwait(false);
        int? exitCode = timedOut ? null : process.ExitCode;
        return new ProcessRunResult(exitCode, timedOut, stopwatch.Elapsed, output, errorOutput);
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the deadline and the kill.
        }

        process.WaitForExit(milliseconds: (int)DrainAfterKill.TotalMilliseconds);
    }

    private static async Task<string> DrainAsync(Task<string> reading)
    {
        var finished = await Task.WhenAny(reading, Task.Delay(DrainAfterKill)).ConfigureAwait(false);
        return finished == reading ? await reading.ConfigureAwait(false) : "<output not closed: a child escaped the kill>";
    }
}
