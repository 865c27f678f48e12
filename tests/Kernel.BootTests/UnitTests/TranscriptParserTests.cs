namespace HekiGuest.Tests.Boot;

public sealed class TranscriptParserTests
{
    private const string CleanRun = """
        HekiGuest booting (PVH)
        command line: modules=1 mem=128
        PASS: runtime: string concat
        PASS: runtime: interface dispatch
        SKIP: boot: module contents (no module given)
        FAIL: serial: hex format (got 0x1 want 0x01)
        SUMMARY: 4 tests, 1 unexpected failures, 1 skipped

        """;

    [Fact]
    public void ParsesResultLinesWithGroupNameAndDetail()
    {
        var transcript = TranscriptParser.Parse(CleanRun);

        Assert.Equal(4, transcript.Results.Count);
        var skip = transcript.Results[2];
        Assert.Equal(ResultKind.Skip, skip.Kind);
        Assert.Equal(new TestId("boot", "module contents"), skip.Id);
        Assert.Equal("no module given", skip.Detail);
        Assert.Equal(5, skip.LineNumber);
        var fail = transcript.Results[3];
        Assert.Equal(ResultKind.Fail, fail.Kind);
        Assert.Equal("hex format", fail.Id.Name);
        Assert.Equal("got 0x1 want 0x01", fail.Detail);
        Assert.Null(transcript.Results[0].Detail);
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void ParsesSummaryWithAllClauses()
    {
        var transcript = TranscriptParser.Parse(CleanRun);

        Assert.Equal(new Summary(4, 1, 0, 0, 1, 7), transcript.Summary);
        Assert.Equal("SUMMARY: 4 tests, 1 unexpected failures, 1 skipped", transcript.Summary!.ToString());
    }

    [Fact]
    public void ParsesSummaryWithoutOptionalClauses()
    {
        var transcript = TranscriptParser.Parse("PASS: a: b\nPASS: a: c\nSUMMARY: 2 tests\n");

        Assert.Equal(new Summary(2, 0, 0, 0, 0, 3), transcript.Summary);
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void ParsesSummaryWithOnlySkippedClause()
    {
        var transcript = TranscriptParser.Parse("PASS: a: b\nSKIP: a: c (no fpu)\nSUMMARY: 2 tests, 1 skipped\n");

        Assert.Equal(1, transcript.Summary!.Skipped);
        Assert.Equal(0, transcript.Summary.UnexpectedFailures);
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void CountsXpassAsUnexpectedAndXfailKfailInTheirOwnClauses()
    {
        var transcript = TranscriptParser.Parse("""
            XPASS: cpu: la57
            XFAIL: cpu: pcid
            KFAIL: cpu: smap
            SUMMARY: 3 tests, 1 unexpected failures, 1 known failures, 1 expected failures
            """);

        Assert.Empty(transcript.Problems);
        Assert.Single(transcript.UnexpectedFailures);
        Assert.Equal(ResultKind.ExpectedFailPassed, transcript.UnexpectedFailures.Single().Kind);
    }

    [Theory]
    [InlineData("PASS: a: b\nSUMMARY: 2 tests\n", "SUMMARY says 2 tests but the transcript has 1")]
    [InlineData("PASS: a: b\nFAIL: a: c\nSUMMARY: 2 tests\n", "SUMMARY says 0 unexpected failures but the transcript has 1")]
    [InlineData("PASS: a: b\nSUMMARY: 1 tests, 1 unexpected failures\n", "SUMMARY says 1 unexpected failures but the transcript has 0")]
    [InlineData("PASS: a: b\nSKIP: a: c (x)\nSUMMARY: 2 tests\n", "SUMMARY says 0 skipped but the transcript has 1")]
    [InlineData("SKIP: a: c (x)\nSUMMARY: 1 tests, 2 skipped\n", "SUMMARY says 2 skipped but the transcript has 1")]
    public void ReportsSummaryCountsThatDisagreeWithTheLines(string text, string expectedProblem)
    {
        var transcript = TranscriptParser.Parse(text);

        Assert.NotNull(transcript.Summary);
        Assert.Contains(transcript.Problems, p => p.Message.StartsWith(expectedProblem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("SUMMARY: lots of tests")]
    [InlineData("SUMMARY: 3 tests, 1 flaky")]
    [InlineData("SUMMARY: 3 tests, 1 skipped, 1 skipped")]
    [InlineData("SUMMARY: 99999999999 tests")]
    [InlineData("SUMMARY: -1 tests")]
    [InlineData("SUMMARY: 3 tests 1 skipped")]
    public void ReportsMalformedSummary(string line)
    {
        var transcript = TranscriptParser.Parse(line + "\n");

        Assert.Null(transcript.Summary);
        Assert.Contains(transcript.Problems, p => p.Message.StartsWith("malformed SUMMARY line", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("PASS: nogroup")]
    [InlineData("FAIL: ")]
    [InlineData("FAIL:  : name")]
    [InlineData("SKIP: two words: name")]
    [InlineData("PASS: group: ")]
    public void ReportsMalformedResultLines(string line)
    {
        var transcript = TranscriptParser.Parse(line + "\n");

        Assert.Empty(transcript.Results);
        Assert.Single(transcript.Problems);
        Assert.StartsWith("malformed result line", transcript.Problems[0].Message, StringComparison.Ordinal);
        Assert.Equal(1, transcript.Problems[0].LineNumber);
    }

    [Theory]
    [InlineData("PASSED all of it")]
    [InlineData("PASS:no space")]
    [InlineData("  PASS: indented: line")]
    [InlineData("the word PASS: in the middle")]
    [InlineData("PANICKY: not a panic")]
    public void IgnoresFreeTextThatOnlyLooksLikeAResult(string line)
    {
        var transcript = TranscriptParser.Parse(line + "\n");

        Assert.Empty(transcript.Results);
        Assert.Empty(transcript.Problems);
        Assert.Empty(transcript.Panics);
    }

    [Fact]
    public void ParsesPanicLines()
    {
        var transcript = TranscriptParser.Parse("starting crash.panic\nPANIC: deliberate fail-fast (crash.panic)\n");

        var panic = Assert.Single(transcript.Panics);
        Assert.Equal("deliberate fail-fast (crash.panic)", panic.Message);
        Assert.Equal(2, panic.LineNumber);
        Assert.Null(transcript.Summary);
    }

    [Fact]
    public void NameMayContainColonsAndParenthesesAndDetailMayNest()
    {
        var transcript = TranscriptParser.Parse("""
            PASS: runtime: generic: List(of int)
            FAIL: boot: mmap (entry 3 (type 2) overlaps)
            FAIL: tests: unknown test 'bogus'
            """);

        Assert.Equal(new TestId("runtime", "generic: List(of int)"), transcript.Results[0].Id);
        Assert.Null(transcript.Results[0].Detail);
        Assert.Equal("mmap", transcript.Results[1].Id.Name);
        Assert.Equal("entry 3 (type 2) overlaps", transcript.Results[1].Detail);
        Assert.Equal(new TestId("tests", "unknown test 'bogus'"), transcript.Results[2].Id);
    }

    [Fact]
    public void PassLinesDifferingOnlyInDetailAreTwoTestsFoundByTheirFullText()
    {
        var transcript = TranscriptParser.Parse("""
            PASS: runtime: double arithmetic (sqrt 2)
            PASS: cpu: #PF error code decoding
            PASS: cpu: #PF error code decoding (user write)
            SUMMARY: 3 tests
            """);

        Assert.Empty(transcript.Problems);
        Assert.Equal("sqrt 2", transcript.Results[0].Detail);
        Assert.Equal(2, transcript.Find(new TestId("cpu", "#PF error code decoding"))!.LineNumber);
        Assert.Equal(3, transcript.Find(new TestId("cpu", "#PF error code decoding (user write)"))!.LineNumber);
        Assert.Equal(1, transcript.Find(new TestId("runtime", "double arithmetic"))!.LineNumber);
        Assert.Equal(1, transcript.Find(new TestId("runtime", "double arithmetic (sqrt 2)"))!.LineNumber);
    }

    [Fact]
    public void FailOfANameEndingInParenthesesIsFoundUnderThatName()
    {
        var transcript = TranscriptParser.Parse("""
            PASS: cpu: decoding
            FAIL: cpu: decoding (user write)
            SKIP: cpu: decoding (kernel read) (no SMAP)
            """);

        Assert.Equal(ResultKind.Pass, transcript.Find(new TestId("cpu", "decoding"))!.Kind);
        Assert.Equal(ResultKind.Fail, transcript.Find(new TestId("cpu", "decoding (user write)"))!.Kind);
        Assert.Equal("no SMAP", transcript.Find(new TestId("cpu", "decoding (kernel read)"))!.Detail);
        Assert.Null(transcript.Find(new TestId("cpu", "decoding (other)")));
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void HandlesCarriageReturnsEscapesAndAMissingFinalNewline()
    {
        var text = "\u001b[2J\u001b[0;37;40mGRUB loading\r\nPASS: boot: cmdline\r\n\0SUMMARY: 1 tests";

        var transcript = TranscriptParser.Parse(text);

        Assert.Equal(["GRUB loading", "PASS: boot: cmdline", "SUMMARY: 1 tests"], transcript.Lines);
        Assert.Single(transcript.Results);
        Assert.Equal(1, transcript.Summary!.Tests);
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void LoneCarriageReturnEndsALine()
    {
        var transcript = TranscriptParser.Parse("Booting...\rPASS: boot: entry\n");

        Assert.Equal(["Booting...", "PASS: boot: entry"], transcript.Lines);
        Assert.Single(transcript.Results);
    }

    [Fact]
    public void ReportsDuplicateResults()
    {
        var transcript = TranscriptParser.Parse("PASS: a: b\nFAIL: a: b\nSUMMARY: 2 tests, 1 unexpected failures\n");

        var problem = Assert.Single(transcript.Problems);
        Assert.Contains("duplicate result for 'a: b' (first on line 1)", problem.Message, StringComparison.Ordinal);
        Assert.Equal(2, problem.LineNumber);
    }

    [Fact]
    public void ReportsSecondSummaryAndResultsAfterSummary()
    {
        var transcript = TranscriptParser.Parse("PASS: a: b\nSUMMARY: 1 tests\nPASS: a: c\nSUMMARY: 2 tests\n");

        Assert.Contains(transcript.Problems, p => p.LineNumber == 3 && p.Message.StartsWith("result line after SUMMARY", StringComparison.Ordinal));
        Assert.Contains(transcript.Problems, p => p.LineNumber == 4 && p.Message.StartsWith("more than one SUMMARY", StringComparison.Ordinal));
        Assert.Equal(2, transcript.Summary!.LineNumber);
    }

    [Fact]
    public void EmptyTranscriptHasNoSummaryAndNoLines()
    {
        var transcript = TranscriptParser.Parse(string.Empty);

        Assert.Empty(transcript.Lines);
        Assert.Null(transcript.Summary);
        Assert.Empty(transcript.Problems);
    }

    [Fact]
    public void TailReturnsTheLastLines()
    {
        var text = string.Concat(Enumerable.Range(1, 30).Select(i => $"line {i}\n"));

        var tail = TranscriptParser.Parse(text).Tail(20);

        Assert.Equal(20, tail.Count);
        Assert.Equal("line 11", tail[0]);
        Assert.Equal("line 30", tail[^1]);
    }
}
