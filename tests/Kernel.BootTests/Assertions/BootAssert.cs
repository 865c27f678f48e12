using Xunit.Abstractions;
using Xunit.Sdk;

namespace HekiGuest.Tests.Boot;

/// <summary>xunit assertions over boot outcomes; each failure message carries the reasons and the serial tail.</summary>
public static class BootAssert
{
    /// <summary>
    /// Asserts a clean pass: no hang, SUMMARY present and consistent with the result lines, no FAIL,
    /// no PANIC, every test in <paramref name="expected"/> PASSed (or SKIPped where skip-ok), exit code 1.
    /// </summary>
    public static void Passed(BootOutcome outcome, ExpectedTests expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var findings = BootDiagnosis.Diagnose(outcome, expected);
        if (findings.Count > 0)
        {
            throw new XunitException(BootFailureReport.Format(outcome, findings));
        }
    }

    /// <summary>Asserts the diagnosis contains a finding of <paramref name="kind"/> and returns it.</summary>
    public static BootFinding HasFinding(BootOutcome outcome, BootFindingKind kind)
    {
        var findings = BootDiagnosis.Diagnose(outcome, expected: null);
        return findings.FirstOrDefault(f => f.Kind == kind)
            ?? throw new XunitException(
                $"expected a '{kind}' finding, got: {(findings.Count == 0 ? "a clean pass" : string.Join("; ", findings))}\n"
                + BootFailureReport.Context(outcome));
    }

    /// <summary>Asserts the host exited (no deadline kill) with <paramref name="exitCode"/>.</summary>
    public static void ExitedWith(BootOutcome outcome, int exitCode)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.TimedOut || outcome.ExitCode != exitCode)
        {
            throw new XunitException(
                $"expected the host to exit with {GuestExitCodes.Describe(exitCode)}\n" + BootFailureReport.Context(outcome));
        }
    }

    /// <summary>Writes the invocation and the full serial transcript to the test output (shown for failed tests).</summary>
    public static void Log(ITestOutputHelper output, BootOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(outcome);
        output.WriteLine($"$ {outcome.Invocation}");
        output.WriteLine(outcome.TimedOut
            ? $"killed at the deadline after {outcome.Elapsed.TotalSeconds:0.00} s"
            : $"exit code {outcome.ExitCode} after {outcome.Elapsed.TotalSeconds:0.00} s");
        output.WriteLine("---- serial ----");
        foreach (var line in outcome.Transcript.Lines)
        {
            output.WriteLine(line);
        }

        output.WriteLine("---- end of serial ----");
        if (outcome.HostDiagnostics.Length > 0)
        {
            output.WriteLine(outcome.HostDiagnostics.TrimEnd());
        }
    }
}
