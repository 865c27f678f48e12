namespace HekiGuest.Tools.AbiHeaderGen;

/// <summary>A failure the command line reports as one line with <see cref="ExitCode"/>.</summary>
public sealed class AbiGenException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
