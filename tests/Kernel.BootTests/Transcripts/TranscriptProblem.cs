namespace HekiGuest.Tests.Boot;

/// <summary>
/// Something wrong with the transcript itself rather than with a test: a malformed result or
/// SUMMARY line, a SUMMARY whose counts disagree with the result lines, a duplicate result.
/// Any problem fails a boot test.
/// </summary>
/// <param name="LineNumber">1-based line the problem is about, or 0 for the transcript as a whole.</param>
/// <param name="Message">What is wrong, for a person.</param>
public sealed record TranscriptProblem(int LineNumber, string Message)
{
    /// <inheritdoc />
    public override string ToString() => LineNumber > 0 ? $"line {LineNumber}: {Message}" : Message;
}
