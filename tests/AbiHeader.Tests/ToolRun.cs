using HekiGuest.Tools.AbiHeaderGen.Cli;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>One in-process run of the abiheadergen command line.</summary>
public sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    public static ToolRun WithArgs(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = AbiHeaderCommand.Run(args, stdout, stderr);
        return new ToolRun(code, stdout.ToString(), stderr.ToString());
    }

    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
