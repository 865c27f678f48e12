using System.Diagnostics;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>Accumulates seed results and prints the progress lines and the final table.</summary>
public sealed class FuzzSummary
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<FuzzMode, (int Seeds, long Instructions)> _modes = [];
    private readonly int[] _stops = new int[Enum.GetValues<SeedStop>().Length];
    private readonly int[] _denials = new int[Enum.GetValues<DenialKind>().Length];
    private readonly int[] _failureKinds = new int[Enum.GetValues<FailureKind>().Length];
    private readonly Dictionary<string, int> _unimplementedMnemonics = [];
    private readonly Dictionary<string, List<long>> _tripleFaults = [];

    public int Seeds { get; private set; }
    public long Instructions { get; private set; }
    public long ExceptionsDelivered { get; private set; }
    public long UnimplementedStops { get; private set; }
    public int SeedsWithUnimplemented { get; private set; }
    public long HaltsResumed { get; private set; }
    public long ExitsResumed { get; private set; }
    public TimeSpan SlowestSeed { get; private set; }
    public long SlowestSeedNumber { get; private set; }
    public List<SeedResult> Failed { get; } = [];
    public TimeSpan Elapsed => _clock.Elapsed;

    public void Add(SeedResult r)
    {
        Seeds++;
        Instructions += r.Instructions;
        ExceptionsDelivered += r.ExceptionsDelivered;
        UnimplementedStops += r.UnimplementedStops;
        if (r.UnimplementedStops > 0) SeedsWithUnimplemented++;
        HaltsResumed += r.HaltsResumed;
        ExitsResumed += r.ExitsResumed;
        _modes[r.Mode] = _modes.TryGetValue(r.Mode, out var m) ? (m.Seeds + 1, m.Instructions + r.Instructions) : (1, r.Instructions);
        _stops[(int)r.Stop]++;
        for (int i = 0; i < _denials.Length; i++) _denials[i] += r.DenialsByKind[i];
        foreach (var name in r.UnimplementedMnemonics) _unimplementedMnemonics[name] = _unimplementedMnemonics.GetValueOrDefault(name) + 1;
        if (r.TripleFaultChain is { } chain)
        {
            if (!_tripleFaults.TryGetValue(chain, out var seeds)) _tripleFaults[chain] = seeds = [];
            seeds.Add(r.Seed);
        }
        if (r.Elapsed > SlowestSeed)
        {
            SlowestSeed = r.Elapsed;
            SlowestSeedNumber = r.Seed;
        }
        if (r.Failed)
        {
            Failed.Add(r);
            foreach (var kind in r.Failures.Select(f => f.Kind).Distinct()) _failureKinds[(int)kind]++;
        }
    }

    public string ProgressLine(long firstSeed, long lastSeed) =>
        $"fuzz-guest: seeds {firstSeed}-{lastSeed}: {Seeds} run, {Instructions:N0} instructions, {Elapsed.TotalSeconds:0.0} s, "
        + $"{Seeds / Math.Max(Elapsed.TotalSeconds, 1e-9):0.0} seeds/s, {Failed.Count} failed";

    public void PrintTable(TextWriter w, FuzzOptions options, long firstSeed)
    {
        double secs = Math.Max(Elapsed.TotalSeconds, 1e-9);
        w.WriteLine();
        w.WriteLine($"fuzz-guest summary (seeds {firstSeed}-{firstSeed + Seeds - 1}, budget {options.MaxInstructions:N0} instructions, cap {options.SeedTimeout.TotalSeconds:0.##} s per seed{(options.StrictUd ? ", --strict-ud" : "")}{(options.LargeAliasWindow ? "" : ", no alias window")})");
        w.WriteLine($"  seeds run            {Seeds:N0} in {secs:0.0} s ({Seeds / secs:0.0} seeds/s; slowest seed {SlowestSeedNumber}: {SlowestSeed.TotalMilliseconds:0} ms)");
        w.WriteLine($"  instructions         {Instructions:N0} ({Instructions / secs / 1e6:0.00} MIPS overall, setup included)");
        w.WriteLine("  per mode             seeds   instructions");
        foreach (var mode in FuzzMode.All)
        {
            var (seeds, insns) = _modes.GetValueOrDefault(mode);
            w.WriteLine($"    {mode,-16}   {seeds,6:N0}   {insns,14:N0}");
        }
        w.WriteLine("  stop kinds");
        foreach (var stop in Enum.GetValues<SeedStop>())
            if (_stops[(int)stop] > 0) w.WriteLine($"    {stop,-18} {_stops[(int)stop],8:N0}");
        foreach (var (chain, seeds) in _tripleFaults.OrderByDescending(p => p.Value.Count).Take(6))
            w.WriteLine($"    triple fault {chain}: {seeds.Count} (e.g. seeds {string.Join(" ", seeds.Take(5))})");
        w.WriteLine($"  exceptions delivered {ExceptionsDelivered:N0} (all recovered by the guest's handler unless a triple fault ended the seed)");
        w.WriteLine($"  resumed              {HaltsResumed:N0} HLT that could never wake, {ExitsResumed:N0} debug-exit writes and reset requests");
        w.WriteLine($"  unimplemented stops  {UnimplementedStops:N0} in {SeedsWithUnimplemented:N0} seeds (exit 71; resumed as #UD{(options.StrictUd ? "; failures under --strict-ud" : ", not failures")})");
        if (_unimplementedMnemonics.Count > 0)
            w.WriteLine("    most frequent: " + string.Join(", ", _unimplementedMnemonics.OrderByDescending(p => p.Value).Take(10).Select(p => $"{p.Key} {p.Value}")));
        w.WriteLine($"  denials              {_denials.Sum():N0}: " + string.Join(", ", Enum.GetValues<DenialKind>().Select(k => $"{DenialKinds.Name(k)} {_denials[(int)k]:N0}")));
        w.WriteLine($"  failures             {Failed.Count:N0} seeds" + (Failed.Count == 0 ? "" : ": "
            + string.Join(", ", Enum.GetValues<FailureKind>().Where(k => _failureKinds[(int)k] > 0).Select(k => $"{k} {_failureKinds[(int)k]}"))));
        foreach (var group in Failed.GroupBy(f => f.Failures[0].Signature).OrderByDescending(g => g.Count()))
        {
            var seeds = group.Select(f => f.Seed).ToList();
            var modes = string.Join(", ", group.GroupBy(f => f.Mode).Select(m => $"{m.Key} {m.Count()}"));
            w.WriteLine($"    {group.Key}: {seeds.Count} ({modes}); seeds {string.Join(" ", seeds.Take(30))}{(seeds.Count > 30 ? " ..." : "")}");
        }
        w.WriteLine(Failed.Count == 0 ? "fuzz-guest: clean" : $"fuzz-guest: {Failed.Count} failing seeds (replay one with --seed N --replay)");
    }
}
