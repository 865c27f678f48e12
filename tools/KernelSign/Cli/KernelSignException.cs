namespace HekiGuest.Tools.KernelSign.Cli;

/// <summary>A failure reported as one line with its exit code.</summary>
public sealed class KernelSignException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
