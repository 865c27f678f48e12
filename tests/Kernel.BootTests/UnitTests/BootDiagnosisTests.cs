namespace HekiGuest.Tests.Boot;

public sealed class BootDiagnosisTests
{
    private static readonly ExpectedTests Expected = ExpectedTests.Parse(
        "runtime: a\nruntime: b\nskip-ok boot: c\n", "expected-tests.txt");

    [Fact]
    public void CleanPassHasNoFindings()
    {
        var outcome = Outcome("PASS: runtime: a\nPASS: runtime: b\nSKIP: boot: c (no module)\nSUMMARY: 3 tests, 1 skipped\n", 1);

        Assert.Empty(BootDiagnosis.Diagnose(outcome, Expected));
        BootAssert.Passed(outcome, Expected);
    }

    [Fact]
    public void FailLineExitThreeAndMissingTestAreEachReported()
    {
        var outcome = Outcome("PASS: runtime: a\nFAIL: runtime: b (got 2)\nSUMMARY: 2 tests, 1 unexpected failures\n", 3);

        var findings = BootDiagnosis.Diagnose(outcome, Expected);

        Assert.Equal(
            [BootFindingKind.TestFailure, BootFindingKind.ExpectedTestMissing, BootFindingKind.WrongExitCode],
            findings.Select(f => f.Kind));
        Assert.Equal("FAIL: runtime: b (got 2) (line 2)", findings[0].Message);
        Assert.Contains("'boot: c' (expected-tests.txt:3)", findings[1].Message, StringComparison.Ordinal);
        Assert.Contains("3 (guest reported a failure); want 1", findings[2].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipIsOnlyAcceptedWhereMarkedSkipOk()
    {
        var outcome = Outcome(
            "SKIP: runtime: a (no sse)\nPASS: runtime: b\nPASS: boot: c\nSKIP: serial: d (x)\nSUMMARY: 4 tests, 2 skipped\n", 1);

        var findings = BootDiagnosis.Diagnose(outcome, Expected);

        Assert.Equal([BootFindingKind.ExpectedTestNotPassed, BootFindingKind.UnexpectedSkip], findings.Select(f => f.Kind));
        Assert.Contains("not marked skip-ok", findings[0].Message, StringComparison.Ordinal);
        Assert.Contains("'skip-ok serial: d'", findings[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SummaryCountMismatchFailsEvenWithExitOne()
    {
        var outcome = Outcome("PASS: runtime: a\nPASS: runtime: b\nPASS: boot: c\nSUMMARY: 4 tests\n", 1);

        var finding = Assert.Single(BootDiagnosis.Diagnose(outcome, Expected));

        Assert.Equal(BootFindingKind.TranscriptProblem, finding.Kind);
        Assert.Contains("SUMMARY says 4 tests but the transcript has 3", finding.Message, StringComparison.Ordinal);
        var error = Assert.Throws<Xunit.Sdk.XunitException>(() => BootAssert.Passed(outcome, Expected));
        Assert.Contains("last 4 of 4 serial lines", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManyMissingExpectedTestsAreSummedUpInOneFinding()
    {
        var expected = ExpectedTests.Parse(string.Concat(Enumerable.Range(1, 8).Select(i => $"runtime: t{i}\n")), "f");
        var outcome = Outcome("PASS: runtime: t1\nstarting runtime: t2\n", exitCode: 0);

        var missing = Assert.Single(BootDiagnosis.Diagnose(outcome, expected), f => f.Kind == BootFindingKind.ExpectedTestMissing);

        Assert.Equal(
            "7 tests in expected-tests.txt have no result line, starting with 'runtime: t2', 'runtime: t3', 'runtime: t4' (expected-tests.txt:2)",
            missing.Message);
    }

    [Fact]
    public void EmptyExpectedListIsAFinding()
    {
        var outcome = Outcome("PASS: runtime: a\nSUMMARY: 1 tests\n", 1);

        var finding = Assert.Single(BootDiagnosis.Diagnose(outcome, ExpectedTests.Parse("# nothing yet\n", "f")));

        Assert.Equal(BootFindingKind.NoExpectedTests, finding.Kind);
    }

    [Fact]
    public void TimeoutIsAHangAndNotAlsoAnExitCodeProblem()
    {
        var outcome = Outcome("starting crash.hang\n", exitCode: null, timedOut: true);

        var finding = Assert.Single(BootDiagnosis.Diagnose(outcome, null));

        Assert.Equal(BootFindingKind.Hang, finding.Kind);
    }

    [Fact]
    public void HasFindingFailsWithTheActualFindings()
    {
        var outcome = Outcome("PASS: runtime: a\nSUMMARY: 1 tests\n", 1);

        var error = Assert.Throws<Xunit.Sdk.XunitException>(() => BootAssert.HasFinding(outcome, BootFindingKind.Hang));

        Assert.Contains("expected a 'Hang' finding, got: a clean pass", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultSetComparisonListsEveryDifference()
    {
        var qemu = TranscriptParser.Parse("PASS: a: x\nPASS: a: y\nSKIP: a: z (r)\n");
        var hostsim = TranscriptParser.Parse("PASS: a: x\nFAIL: a: y (d)\nPASS: a: w\n");

        var differences = ResultSetComparison.Differences("qemu", qemu, "hostsim", hostsim);

        Assert.Equal(
            [
                "'a: w': no result on qemu, PASS on hostsim",
                "'a: y': PASS on qemu, FAIL on hostsim",
                "'a: z': SKIP on qemu, no result on hostsim",
            ],
            differences);
        Assert.Empty(ResultSetComparison.Differences("qemu", qemu, "qemu", qemu));
    }

    internal static BootOutcome Outcome(string serial, int? exitCode, bool timedOut = false) =>
        new(
            "qemu",
            BootRequest.Pvh("canned", TimeSpan.FromSeconds(8)),
            "qemu-system-x86_64 ...",
            exitCode,
            timedOut,
            TimeSpan.FromSeconds(1),
            serial,
            string.Empty,
            null);
}
