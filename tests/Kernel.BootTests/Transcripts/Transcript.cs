namespace HekiGuest.Tests.Boot;

/// <summary>A parsed serial transcript. Build one with <see cref="TranscriptParser.Parse"/>.</summary>
public sealed class Transcript
{
    internal Transcript(
        IReadOnlyList<string> lines,
        IReadOnlyList<TestResult> results,
        Summary? summary,
        IReadOnlyList<PanicLine> panics,
        IReadOnlyList<TranscriptProblem> problems)
    {
        Lines = lines;
        Results = results;
        Summary = summary;
        Panics = panics;
        Problems = problems;
    }

    /// <summary>Every line, cleaned of carriage returns and terminal escape sequences.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>The result lines in the order printed.</summary>
    public IReadOnlyList<TestResult> Results { get; }

    /// <summary>The SUMMARY line, or null when the kernel never printed a well-formed one.</summary>
    public Summary? Summary { get; }

    /// <summary>The PANIC lines.</summary>
    public IReadOnlyList<PanicLine> Panics { get; }

    /// <summary>Format and consistency problems, including SUMMARY counts that disagree with the lines.</summary>
    public IReadOnlyList<TranscriptProblem> Problems { get; }

    /// <summary>The unexpected failures (FAIL and XPASS lines).</summary>
    public IEnumerable<TestResult> UnexpectedFailures => Results.Where(r => r.IsUnexpectedFailure);

    /// <summary>The last <paramref name="count"/> lines, for failure messages.</summary>
    public IReadOnlyList<string> Tail(int count) =>
        Lines.Count <= count ? Lines : Lines.Skip(Lines.Count - count).ToArray();

    /// <summary>
    /// The result for <paramref name="id"/>: the first whose name is exactly that, else the first that
    /// reports it with its detail (see <see cref="TestResult.Reports"/>); null when there is none.
    /// </summary>
    public TestResult? Find(TestId id) => Results.FirstOrDefault(r => r.Id == id) ?? Results.FirstOrDefault(r => r.Reports(id));
}
