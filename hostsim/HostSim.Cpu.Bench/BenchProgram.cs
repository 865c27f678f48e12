using HekiGuest.HostSim.Cpu.Bench.Differential;

namespace HekiGuest.HostSim.Cpu.Bench;

/// <summary>Entry point: `bench` (guest MIPS) and `fuzz` (differential run against the host CPU).</summary>
internal static class BenchProgram
{
    private const string Usage = "usage: hostsim-cpu-bench bench [--runs N] [--warmup SECONDS] [--only a|a2|nop|b] | fuzz [--cases N] [--seed S] [--start I]";

    public static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            return args[0] switch
            {
                "bench" => Benchmarks.Run(args.AsSpan(1).ToArray()),
                "fuzz" => Fuzz(args.AsSpan(1).ToArray()),
                _ => Fail($"unknown command '{args[0]}'"),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}\n{Usage}");
        return 2;
    }

    private static int Fuzz(string[] args)
    {
        long cases = 10_000_000;
        int seed = Environment.TickCount;
        long start = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--cases": cases = long.Parse(Value()); break;
                case "--seed": seed = int.Parse(Value()); break;
                case "--start": start = long.Parse(Value()); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (cases <= 0) throw new ArgumentException("--cases must be positive");
        if (!RwxRegion.IsSupported)
        {
            Console.Error.WriteLine("error: the differential fuzzer needs a Linux x86-64 host");
            return 3;
        }
        Console.WriteLine($"fuzz-cpu: seed={seed} cases={cases} start={start} forms={InstructionForms.All.Length} templates={CaseGenerator.Templates.Count}");
        using var fuzzer = new DifferentialFuzzer();
        var result = fuzzer.Run(seed, cases, start, 20, msg => Console.WriteLine("  " + msg));
        foreach (var rep in result.Reports)
        {
            Console.WriteLine(rep);
        }
        if (result.FailingForms.Count > 0)
        {
            Console.WriteLine("failing forms: " + string.Join(", ", result.FailingForms.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}x{kv.Value}")));
        }
        Console.WriteLine($"time: interpreter {fuzzer.InterpreterTicks / (double)System.Diagnostics.Stopwatch.Frequency:F1} s, host {fuzzer.HostTicks / (double)System.Diagnostics.Stopwatch.Frequency:F1} s, generator {fuzzer.GenTicks / (double)System.Diagnostics.Stopwatch.Frequency:F1} s");
        Console.WriteLine($"fuzz-cpu: {result.Cases} cases, {result.Mismatches} mismatches, {result.FormCounts.Count} distinct forms, {result.Elapsed.TotalSeconds:F1} s (seed={seed})");
        return result.Mismatches == 0 ? 0 : 1;
    }
}
