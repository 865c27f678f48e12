using System.Diagnostics;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>The system C compiler (cc, else gcc) on PATH, and runs of it and of what it builds.</summary>
public static class CCompiler
{
    public static string? Path { get; } = Find("cc") ?? Find("gcc");

    public const string MissingReason = "no C compiler (cc or gcc) on PATH: install gcc (`make test` does, through deps-cc) to check heki_abi.h's static asserts";

    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 60 s");
        }

        return (process.ExitCode, stdout + stderr.Result);
    }

    public static (int ExitCode, string Output) Compile(params string[] args) =>
        Run(Path ?? throw new InvalidOperationException(MissingReason), args);

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
