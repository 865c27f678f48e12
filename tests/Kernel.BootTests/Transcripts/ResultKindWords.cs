namespace HekiGuest.Tests.Boot;

/// <summary>The words that open result lines, in both directions.</summary>
public static class ResultKindWords
{
    private static readonly (string Word, ResultKind Kind)[] Table =
    [
        ("PASS", ResultKind.Pass),
        ("FAIL", ResultKind.Fail),
        ("SKIP", ResultKind.Skip),
        ("XPASS", ResultKind.ExpectedFailPassed),
        ("XFAIL", ResultKind.ExpectedFail),
        ("KFAIL", ResultKind.KnownFail),
    ];

    /// <summary>The word printed for <paramref name="kind"/>.</summary>
    public static string ToWord(ResultKind kind)
    {
        foreach (var (word, candidate) in Table)
        {
            if (candidate == kind)
            {
                return word;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(kind), kind, "no word for this result kind");
    }

    /// <summary>Finds the kind whose word opens <paramref name="line"/> followed by ": ".</summary>
    public static bool TryMatchPrefix(string line, out ResultKind kind, out int restStart)
    {
        foreach (var (word, candidate) in Table)
        {
            if (line.Length > word.Length + 1
                && line.StartsWith(word, StringComparison.Ordinal)
                && line[word.Length] == ':'
                && line[word.Length + 1] == ' ')
            {
                kind = candidate;
                restStart = word.Length + 2;
                return true;
            }
        }

        kind = default;
        restStart = 0;
        return false;
    }
}
