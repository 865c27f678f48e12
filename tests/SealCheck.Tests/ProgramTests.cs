using System.Diagnostics;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

/// <summary>Runs the built sealcheck program as a separate process, as `make` does.</summary>
public class ProgramTests
{
    private static (int ExitCode, string Stdout, string Stderr) RunProgram(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "sealcheck.dll");
        Assert.True(File.Exists(dll), $"built program not found at {dll}");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "sealcheck did not finish within 60 s");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string WriteTemp(byte[] image)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sealcheck-program-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, image);
        return path;
    }

    [Fact]
    public void MisplacedPrivilegedInstructionFailsTheProgramWithAPreciseMessage()
    {
        string path = WriteTemp(new TestKernel { Text64 = a => { a.nop(); a.mov(cr3, rdi); a.ret(); } }.Build());
        try
        {
            var (exitCode, stdout, stderr) = RunProgram(path);

            Assert.True(exitCode == 1, stdout + stderr);
            Assert.Contains("sealed-class instruction at 0x101001 <kmain+0x1> in .text (64-bit): mov cr3, rdi [0F 22 DF] outside .heki.sealed", stdout);
            Assert.EndsWith("sealcheck: FAIL (1 violation)\n", stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CleanKernelPassesTheProgram()
    {
        string path = WriteTemp(new TestKernel().Build());
        try
        {
            var (exitCode, stdout, _) = RunProgram(path);

            Assert.True(exitCode == 0, stdout);
            Assert.EndsWith("sealcheck: OK (2 sealed-class instructions, all inside .heki.sealed)\n", stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NonElfGivesOneErrorLineAndExitCode2FromTheProgram()
    {
        string path = WriteTemp("hello"u8.ToArray());
        try
        {
            var (exitCode, stdout, stderr) = RunProgram(path);

            Assert.Equal(2, exitCode);
            Assert.Equal($"sealcheck: error: {path}: not an ELF file (bad magic)\n", stderr);
            Assert.Empty(stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
