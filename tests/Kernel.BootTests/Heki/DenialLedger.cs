namespace HekiGuest.Tests.Boot;

/// <summary>
/// Pairs the kernel's announced denials with the host's denial events: each announcement must
/// match exactly one event (every field it names equal), in order, and no denial event may be
/// left over. Returns one line per problem; empty means the ledger balances.
/// </summary>
public static class DenialLedger
{
    public static IReadOnlyList<string> Problems(IReadOnlyList<DenialExpectation> expected, IReadOnlyList<HostEvent> events)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(events);
        var denials = events.Where(e => e.Event == "denial").ToList();
        var problems = new List<string>();
        var used = new bool[denials.Count];
        var cursor = 0;
        foreach (var expectation in expected)
        {
            var matches = Enumerable.Range(0, denials.Count).Where(i => Matches(expectation, denials[i])).ToList();
            if (matches.Count == 0)
            {
                problems.Add($"no denial event for {expectation}");
                continue;
            }

            if (matches.Count > 1)
            {
                problems.Add($"{matches.Count} denial events for {expectation} (want exactly one): {string.Join("; ", matches.Select(i => denials[i]))}");
            }

            var first = matches[0];
            if (first < cursor)
            {
                problems.Add($"denial event for {expectation} is out of order ({denials[first]})");
            }

            cursor = Math.Max(cursor, first);
            foreach (var i in matches)
            {
                used[i] = true;
            }
        }

        for (var i = 0; i < denials.Count; i++)
        {
            if (!used[i])
            {
                problems.Add($"denial the kernel did not announce: {denials[i]}");
            }

            foreach (var field in new[] { "kind", "vcpu", "rip" })
            {
                if (denials[i].Get(field) is null)
                {
                    problems.Add($"denial without '{field}': {denials[i]}");
                }
            }
        }

        return problems;
    }

    private static bool Matches(DenialExpectation expectation, HostEvent denial) =>
        expectation.Fields.All(f => denial.Get(f.Key) is { } value && HostEvent.SameValue(f.Value, value));
}
