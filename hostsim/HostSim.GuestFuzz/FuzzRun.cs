namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>Runs consecutive seeds with a watchdog, prints every failure as it is found, a progress
/// line every N seeds and the final table; returns true when no seed failed.</summary>
public static class FuzzRun
{
    public static bool Run(long firstSeed, long count, FuzzOptions options, int progressEvery, TextWriter w)
    {
        var summary = new FuzzSummary();
        var hardLimit = TimeSpan.FromSeconds(Math.Max(120, options.SeedTimeout.TotalSeconds * 60));
        using var watchdog = new Watchdog(options.SeedTimeout, hardLimit, w);
        w.WriteLine($"fuzz-guest: seeds {firstSeed}-{firstSeed + count - 1}, budget {options.MaxInstructions:N0} instructions, "
            + $"cap {options.SeedTimeout.TotalSeconds:0.##} s per seed (hard limit {hardLimit.TotalSeconds:0} s){(options.StrictUd ? ", --strict-ud" : "")}");
        for (long i = 0; i < count; i++)
        {
            long seed = firstSeed + i;
            var r = SeedRunner.Run(seed, options, watchdog);
            summary.Add(r);
            if (r.Failed)
            {
                w.WriteLine($"fuzz-guest: FAIL seed {seed} ({r.Mode}, stop {r.Stop}, {r.Instructions} instructions, {r.Elapsed.TotalMilliseconds:0} ms):");
                foreach (var f in r.Failures) w.WriteLine("  " + f);
            }
            if (progressEvery > 0 && (i + 1) % progressEvery == 0) w.WriteLine(summary.ProgressLine(firstSeed, seed));
            w.Flush();
        }
        summary.PrintTable(w, options, firstSeed);
        return summary.Failed.Count == 0;
    }
}
