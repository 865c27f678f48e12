namespace HekiGuest.Tests.Boot;

/// <summary>One result line of a transcript, e.g. <c>FAIL: boot: memory total (got 64 MiB)</c>.</summary>
/// <param name="Kind">The verdict word.</param>
/// <param name="Id">Group and name of the test.</param>
/// <param name="Detail">The text in the closing parentheses, or null when there is none.</param>
/// <param name="LineNumber">1-based line number in the transcript.</param>
public sealed record TestResult(ResultKind Kind, TestId Id, string? Detail, int LineNumber)
{
    /// <summary>True for the kinds kvm-unit-tests counts as unexpected failures (FAIL, XPASS).</summary>
    public bool IsUnexpectedFailure => Kind is ResultKind.Fail or ResultKind.ExpectedFailPassed;

    /// <summary>
    /// Whether this line reports <paramref name="id"/>: the name alone, or the name with its
    /// parenthesised detail. <c>PASS: cpu: decoding (user write)</c> parses as name "decoding",
    /// detail "user write", and reports both <c>cpu: decoding</c> and <c>cpu: decoding (user write)</c>;
    /// an expected-tests list uses the second form to tell two such lines apart.
    /// </summary>
    public bool Reports(TestId id) =>
        Id == id
        || (Detail is not null && Id.Group == id.Group && string.Equals($"{Id.Name} ({Detail})", id.Name, StringComparison.Ordinal));

    /// <inheritdoc />
    public override string ToString()
    {
        var word = ResultKindWords.ToWord(Kind);
        return Detail is null ? $"{word}: {Id}" : $"{word}: {Id} ({Detail})";
    }
}
