namespace HekiGuest.Tests.Boot;

/// <summary>
/// Compares the PASS/FAIL/SKIP sets of two transcripts of the same kernel on two hosts (QEMU and
/// hostsim): same tests, same verdict for each. Free text and ordering may differ.
/// </summary>
public static class ResultSetComparison
{
    /// <summary>One line per difference; empty when the sets are identical.</summary>
    public static IReadOnlyList<string> Differences(string leftHost, Transcript left, string rightHost, Transcript right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);

        var leftKinds = ByTest(left);
        var rightKinds = ByTest(right);
        var differences = new List<string>();
        foreach (var id in leftKinds.Keys.Union(rightKinds.Keys).Order())
        {
            var onLeft = leftKinds.TryGetValue(id, out var leftKind);
            var onRight = rightKinds.TryGetValue(id, out var rightKind);
            if (!onRight)
            {
                differences.Add($"'{id}': {ResultKindWords.ToWord(leftKind)} on {leftHost}, no result on {rightHost}");
            }
            else if (!onLeft)
            {
                differences.Add($"'{id}': no result on {leftHost}, {ResultKindWords.ToWord(rightKind)} on {rightHost}");
            }
            else if (leftKind != rightKind)
            {
                differences.Add($"'{id}': {ResultKindWords.ToWord(leftKind)} on {leftHost}, {ResultKindWords.ToWord(rightKind)} on {rightHost}");
            }
        }

        return differences;
    }

    private static Dictionary<TestId, ResultKind> ByTest(Transcript transcript)
    {
        var kinds = new Dictionary<TestId, ResultKind>();
        foreach (var result in transcript.Results)
        {
            kinds.TryAdd(result.Id, result.Kind);
        }

        return kinds;
    }
}
