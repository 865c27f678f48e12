using System.Globalization;
using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>Formats a failed boot for a person: the reasons, the exit, how to repeat it, the serial tail.</summary>
public static class BootFailureReport
{
    /// <summary>How many serial lines a failure message shows.</summary>
    public const int TailLines = 20;

    /// <summary>The failure message for <paramref name="outcome"/> with <paramref name="findings"/> as the reasons.</summary>
    public static string Format(BootOutcome outcome, IReadOnlyList<BootFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(findings);

        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"{outcome.HostName} {outcome.Request.Medium} boot '{outcome.Request.Label}' failed:\n");
        foreach (var finding in findings)
        {
            builder.Append("  - ").Append(finding.Message).Append('\n');
        }

        AppendContext(builder, outcome);
        return builder.ToString();
    }

    /// <summary>Exit, command, log path, the last <see cref="TailLines"/> serial lines and the host's own output.</summary>
    public static string Context(BootOutcome outcome)
    {
        var builder = new StringBuilder();
        AppendContext(builder, outcome);
        return builder.ToString();
    }

    private static void AppendContext(StringBuilder builder, BootOutcome outcome)
    {
        var seconds = outcome.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        var exit = outcome.TimedOut
            ? $"killed at the {outcome.Request.Deadline.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s deadline"
            : $"exit code {GuestExitCodes.Describe(outcome.ExitCode ?? -1)}";
        builder.Append(CultureInfo.InvariantCulture, $"exit: {exit} after {seconds} s\n");
        builder.Append("command: ").Append(outcome.Invocation).Append('\n');
        if (outcome.SerialLogPath is not null)
        {
            builder.Append("full serial log: ").Append(outcome.SerialLogPath).Append('\n');
        }

        var lines = outcome.Transcript.Lines;
        var tail = outcome.Transcript.Tail(TailLines);
        if (tail.Count == 0)
        {
            builder.Append("serial: (the guest printed nothing)\n");
        }
        else
        {
            builder.Append(CultureInfo.InvariantCulture, $"last {tail.Count} of {lines.Count} serial lines:\n");
            foreach (var line in tail)
            {
                builder.Append("  | ").Append(line).Append('\n');
            }
        }

        if (outcome.HostDiagnostics.Length > 0)
        {
            builder.Append("host output:\n");
            foreach (var line in outcome.HostDiagnostics.TrimEnd().Split('\n'))
            {
                builder.Append("  ").Append(line).Append('\n');
            }
        }
    }
}
