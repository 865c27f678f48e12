using System.CommandLine;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>The command line: run a range of seeds (progress lines, a final table) or replay one.</summary>
public static class FuzzCommand
{
    public const int ExitClean = 0, ExitFailures = 1, ExitUsage = 2;

    public static RootCommand Create(TextWriter output)
    {
        var seeds = new Option<long>("--seeds") { Description = "How many seeds to run.", DefaultValueFactory = _ => 3000 };
        var firstSeed = new Option<long>("--first-seed") { Description = "The first seed (seeds are consecutive; the mode is seed mod 6).", DefaultValueFactory = _ => 1 };
        var seed = new Option<long?>("--seed") { Description = "Run this one seed (with --replay: verbosely, with a trace of its last instructions)." };
        var replay = new Option<bool>("--replay") { Description = "With --seed: trace the seed and print its events, state and last instructions." };
        var maxInstructions = new Option<long>("--max-instructions")
        {
            Description = "Instruction budget of each seed's random code.",
            DefaultValueFactory = _ => FuzzOptions.DefaultMaxInstructions,
        };
        var timeout = new Option<double>("--seed-timeout") { Description = "Wall-clock cap per seed in seconds; a seed past it is a hang.", DefaultValueFactory = _ => 2.0 };
        var strictUd = new Option<bool>("--strict-ud") { Description = "Count unimplemented/undecodable-instruction stops (exit 71) as failures." };
        var noAlias = new Option<bool>("--no-alias-window") { Description = "Leave out the 1 GiB window aliasing the heap (string instructions then cover at most the 6 MiB of RAM)." };
        var code = new Option<string?>("--code")
        {
            Description = "A repro: run these instruction bytes (hex, e.g. 48c7c0ffffffffffe0) at the start of the code area in the seed's mode, "
                + "the rest of the area INT3, instead of random code; the seed still picks the mode, registers and entry flags.",
        };
        var vsm = new Option<bool>("--vsm")
        {
            Description = "Instead of random code: random VSM hypercalls, VTL calls/returns, memory accesses and intercepted register writes "
                + "from VTL0 and VTL1 on the policy-free VSM host (--profile vsm); every seed must end without a host exception or hang.",
        };
        var vsmSteps = new Option<int>("--vsm-steps") { Description = "With --vsm: steps per seed.", DefaultValueFactory = _ => Vsm.VsmFuzzRun.DefaultSteps };
        var progress = new Option<int>("--progress") { Description = "Print a summary line every N seeds (0: none).", DefaultValueFactory = _ => 500 };

        var root = new RootCommand("hostsim-guest-fuzz: random code at CPL 0 and 3 in 64-, 32- and 16-bit code on hostsim with the HekiGuest "
            + "protections armed. Exit code 0 clean, 1 failures found, 2 bad arguments.")
        {
            seeds, firstSeed, seed, replay, maxInstructions, timeout, strictUd, noAlias, code, progress, vsm, vsmSteps,
        };
        root.SetAction(parse =>
        {
            long budget = parse.GetValue(maxInstructions);
            double cap = parse.GetValue(timeout);
            if (budget <= 0) throw new UsageError($"--max-instructions {budget}: must be positive");
            if (!(cap > 0) || cap > 3600) throw new UsageError($"--seed-timeout {cap}: must be between 0 and 3600 seconds");
            var options = new FuzzOptions
            {
                MaxInstructions = budget, SeedTimeout = TimeSpan.FromSeconds(cap), StrictUd = parse.GetValue(strictUd),
                LargeAliasWindow = !parse.GetValue(noAlias), Code = ParseCode(parse.GetValue(code)),
            };
            long? one = parse.GetValue(seed);
            if (parse.GetValue(vsm))
            {
                int steps = parse.GetValue(vsmSteps);
                if (steps <= 0) throw new UsageError($"--vsm-steps {steps}: must be positive");
                long vsmCount = one is null ? parse.GetValue(seeds) : 1;
                if (vsmCount <= 0) throw new UsageError($"--seeds {vsmCount}: must be positive");
                // a VSM seed runs many steps: its wall cap is the per-seed timeout times 5
                return Vsm.VsmFuzzRun.Run(one ?? parse.GetValue(firstSeed), vsmCount, steps, TimeSpan.FromSeconds(cap * 5), output) ? ExitClean : ExitFailures;
            }
            if (parse.GetValue(replay))
            {
                if (one is not { } s) throw new UsageError("--replay needs --seed N");
                return Replay.Run(s, options, output).Failed ? ExitFailures : ExitClean;
            }
            long count = one is null ? parse.GetValue(seeds) : 1;
            if (count <= 0) throw new UsageError($"--seeds {count}: must be positive");
            int every = parse.GetValue(progress);
            if (every < 0) throw new UsageError($"--progress {every}: must be 0 or more");
            return FuzzRun.Run(one ?? parse.GetValue(firstSeed), count, options, every, output) ? ExitClean : ExitFailures;
        });
        return root;
    }

    private static byte[]? ParseCode(string? hex)
    {
        if (hex is null) return null;
        string digits = hex.Replace(" ", "", StringComparison.Ordinal).Replace("0x", "", StringComparison.OrdinalIgnoreCase);
        try
        {
            var bytes = Convert.FromHexString(digits);
            if (bytes.Length == 0 || bytes.Length > GuestLayout.CodeSize) throw new UsageError($"--code: 1 to {GuestLayout.CodeSize} bytes expected");
            return bytes;
        }
        catch (FormatException)
        {
            throw new UsageError($"--code {hex}: expected hex bytes, e.g. 48c7c0ffffffffffe0");
        }
    }
}
