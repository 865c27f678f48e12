namespace HekiGuest.Tests.Boot;

/// <summary>
/// The closing line <c>SUMMARY: N tests[, F unexpected failures][, K known failures]
/// [, X expected failures][, S skipped]</c>. Clauses that are absent count as zero.
/// </summary>
public sealed record Summary(
    int Tests,
    int UnexpectedFailures,
    int KnownFailures,
    int ExpectedFailures,
    int Skipped,
    int LineNumber)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var text = $"SUMMARY: {Tests} tests";
        if (UnexpectedFailures != 0)
        {
            text += $", {UnexpectedFailures} unexpected failures";
        }

        if (KnownFailures != 0)
        {
            text += $", {KnownFailures} known failures";
        }

        if (ExpectedFailures != 0)
        {
            text += $", {ExpectedFailures} expected failures";
        }

        if (Skipped != 0)
        {
            text += $", {Skipped} skipped";
        }

        return text;
    }
}
