using System.Globalization;

namespace HekiGuest.Tests.Boot;

/// <summary>Turns a <see cref="BootOutcome"/> into the list of reasons it is not a clean pass.</summary>
public static class BootDiagnosis
{
    /// <summary>Up to this many missing expected tests get a line each; more are summed up in one.</summary>
    public const int MissingListedOneByOne = 5;

    /// <summary>
    /// Everything that keeps <paramref name="outcome"/> from being a clean pass: a hang, a missing
    /// SUMMARY, PANIC lines, FAIL lines, transcript problems, an exit code other than 1 and, when
    /// <paramref name="expected"/> is given, expected tests that did not PASS and SKIPs it does not
    /// allow. An empty list means the boot passed.
    /// </summary>
    public static IReadOnlyList<BootFinding> Diagnose(BootOutcome outcome, ExpectedTests? expected)
    {
        ArgumentNullException.ThrowIfNull(outcome);

        var findings = new List<BootFinding>();
        var transcript = outcome.Transcript;

        if (outcome.TimedOut)
        {
            findings.Add(new(
                BootFindingKind.Hang,
                $"no exit within the {Seconds(outcome.Request.Deadline)} s deadline (hang?): the host's process tree was killed"
                + (transcript.Summary is null ? " and the guest never printed SUMMARY" : string.Empty)));
        }
        else if (transcript.Summary is null)
        {
            findings.Add(new(
                BootFindingKind.NoSummary,
                $"the host exited with code {outcome.ExitCode} without a SUMMARY line "
                + "(triple fault or crash under -no-reboot, a panic, or the host could not start the guest)"));
        }

        foreach (var panic in transcript.Panics)
        {
            findings.Add(new(BootFindingKind.Panic, $"kernel panic (line {panic.LineNumber}): {panic.Message}"));
        }

        foreach (var problem in transcript.Problems)
        {
            findings.Add(new(BootFindingKind.TranscriptProblem, $"transcript {problem}"));
        }

        foreach (var failure in transcript.UnexpectedFailures)
        {
            findings.Add(new(BootFindingKind.TestFailure, $"{failure} (line {failure.LineNumber})"));
        }

        if (expected is not null)
        {
            CheckExpected(outcome.HostName, transcript, expected, findings);
        }

        if (!outcome.TimedOut && outcome.ExitCode != GuestExitCodes.AllPassed)
        {
            var code = outcome.ExitCode is int value ? GuestExitCodes.Describe(value) : "unknown";
            findings.Add(new(BootFindingKind.WrongExitCode, $"host exit code {code}; want 1 (all passed)"));
        }

        return findings;
    }

    private static void CheckExpected(string host, Transcript transcript, ExpectedTests expected, List<BootFinding> findings)
    {
        if (expected.Entries.Count == 0)
        {
            findings.Add(new(
                BootFindingKind.NoExpectedTests,
                $"{ExpectedTests.FileName} lists no tests for the groups booted: add a 'group: name' line per kernel test"));
        }

        var missing = new List<ExpectedTest>();
        foreach (var entry in expected.Entries)
        {
            var result = transcript.Find(entry.Id);
            if (result is null)
            {
                missing.Add(entry);
                continue;
            }

            if (entry.MustSkipOn(host))
            {
                if (result.Kind != ResultKind.Skip && !result.IsUnexpectedFailure)
                {
                    findings.Add(new(
                        BootFindingKind.ExpectedTestNotPassed,
                        $"expected '{entry.Id}' to SKIP on {host} ({ExpectedTests.FileName}:{entry.LineNumber} says skip-on {string.Join(',', entry.SkipOn)}), got '{result}' (line {result.LineNumber})"));
                }

                continue;
            }

            var accepted = result.Kind == ResultKind.Pass || (result.Kind == ResultKind.Skip && entry.SkipAllowed);
            if (!accepted && !result.IsUnexpectedFailure)
            {
                var why = result.Kind == ResultKind.Skip
                    ? entry.SkipOn.Count > 0 ? $" (it may SKIP only on {string.Join(',', entry.SkipOn)})" : " and it is not marked skip-ok"
                    : string.Empty;
                findings.Add(new(
                    BootFindingKind.ExpectedTestNotPassed,
                    $"expected '{entry.Id}' to PASS, got '{result}' (line {result.LineNumber}){why}"));
            }
        }

        AddMissing(missing, findings);

        foreach (var skip in transcript.Results.Where(r => r.Kind == ResultKind.Skip && !expected.Entries.Any(e => r.Reports(e.Id))))
        {
            findings.Add(new(
                BootFindingKind.UnexpectedSkip,
                $"'{skip}' (line {skip.LineNumber}) is not in {ExpectedTests.FileName}; list it as 'skip-ok {skip.Id}' if that SKIP is fine"));
        }
    }

    private static void AddMissing(List<ExpectedTest> missing, List<BootFinding> findings)
    {
        if (missing.Count > MissingListedOneByOne)
        {
            // A boot that died early misses most of the list; one line keeps the real reason visible.
            var examples = string.Join(", ", missing.Take(3).Select(e => $"'{e.Id}'"));
            findings.Add(new(
                BootFindingKind.ExpectedTestMissing,
                $"{missing.Count} tests in {ExpectedTests.FileName} have no result line, starting with {examples} "
                + $"({ExpectedTests.FileName}:{missing[0].LineNumber})"));
            return;
        }

        foreach (var entry in missing)
        {
            findings.Add(new(
                BootFindingKind.ExpectedTestMissing,
                $"expected '{entry.Id}' ({ExpectedTests.FileName}:{entry.LineNumber}) but the kernel printed no result for it"));
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
