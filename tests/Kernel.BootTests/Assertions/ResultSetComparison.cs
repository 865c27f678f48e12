namespace HekiGuest.Tests.Boot;

/// <summary>
/// Compares the PASS/FAIL/SKIP sets of two transcripts of the same kernel on two hosts (QEMU and
/// hostsim): same tests, same verdict for each. Free text and ordering may differ.
/// </summary>
public static class ResultSetComparison
{
    /// <summary>
    /// One line per difference; empty when the sets are identical. With <paramref name="expected"/>,
    /// a test marked <c>skip-on</c> one of the two hosts is no difference when it SKIPs exactly on
    /// the hosts named and PASSes on the other (e.g. the HekiGuest attacks: PASS on hostsim, SKIP
    /// on QEMU, which has no host interface).
    /// </summary>
    public static IReadOnlyList<string> Differences(string leftHost, Transcript left, string rightHost, Transcript right, ExpectedTests? expected = null)
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
            else if (leftKind != rightKind && !ExpectedHostDifference(expected, id, leftHost, leftKind, rightHost, rightKind))
            {
                differences.Add($"'{id}': {ResultKindWords.ToWord(leftKind)} on {leftHost}, {ResultKindWords.ToWord(rightKind)} on {rightHost}");
            }
        }

        return differences;
    }

    private static bool ExpectedHostDifference(ExpectedTests? expected, TestId id, string leftHost, ResultKind leftKind, string rightHost, ResultKind rightKind)
    {
        if (expected?.Find(id) is not { SkipOn.Count: > 0 } entry)
        {
            return false;
        }

        static ResultKind Want(ExpectedTest e, string host) => e.MustSkipOn(host) ? ResultKind.Skip : ResultKind.Pass;
        return leftKind == Want(entry, leftHost) && rightKind == Want(entry, rightHost);
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
