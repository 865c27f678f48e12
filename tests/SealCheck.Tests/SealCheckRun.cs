using HekiGuest.Tools.SealCheck.Cli;

namespace HekiGuest.Tools.SealCheck.Tests;

/// <summary>One in-process run of the sealcheck command line: exit code and both output streams.</summary>
public sealed record SealCheckRun(int ExitCode, string Stdout, string Stderr)
{
    public static SealCheckRun WithArgs(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = SealCheckCommand.Run(args, stdout, stderr);
        return new SealCheckRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes <paramref name="image"/> to a temporary file and verifies it.</summary>
    public static SealCheckRun OnImage(byte[] image, params string[] extraArgs)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sealcheck-test-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, image);
        try
        {
            return WithArgs([.. extraArgs, path]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The stderr lines (exit-2 errors must be exactly one).</summary>
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string Verdict => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.TrimEnd() ?? "";

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
