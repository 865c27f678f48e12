using Xunit.Abstractions;

namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>
/// The short deterministic run inside <c>make test</c>: seeds 1-300 (50 per mode) with the default
/// budget and the whole guest (the 1 GiB alias window included) must all be clean: no host
/// exception, no run past its budget or time cap, every protection intact.
/// </summary>
public sealed class FixedSeedRunTests(ITestOutputHelper output)
{
    public const long FirstSeed = 1, Seeds = 300;

    [Fact]
    public void Fixed_seeds_across_all_six_modes_are_clean()
    {
        var options = new FuzzOptions { SeedTimeout = TestCap.Value };
        var summary = new FuzzSummary();
        for (long seed = FirstSeed; seed < FirstSeed + Seeds; seed++) summary.Add(SeedRunner.Run(seed, options));
        var table = new StringWriter();
        summary.PrintTable(table, options, FirstSeed);
        output.WriteLine(table.ToString());
        Assert.Equal((int)Seeds, summary.Seeds);
        Assert.True(summary.Failed.Count == 0,
            "failing seeds:\n" + string.Join("\n", summary.Failed.Select(f => $"seed {f.Seed} ({f.Mode}): {string.Join("; ", f.Failures)}")));
        Assert.True(summary.Instructions > Seeds * 5_000, $"only {summary.Instructions} instructions ran");
        Assert.True(summary.ExceptionsDelivered > Seeds, "the guest's handler should recover many faults");
    }

    [Fact]
    public void Every_mode_is_covered_by_six_consecutive_seeds()
    {
        var modes = Enumerable.Range(0, 6).Select(i => FuzzMode.ForSeed(FirstSeed + i)).ToHashSet();
        Assert.Equal(FuzzMode.All.ToHashSet(), modes);
        Assert.Equal(FuzzMode.ForSeed(-5), FuzzMode.ForSeed(1));
    }
}
