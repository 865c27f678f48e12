using System.Diagnostics;
using System.Globalization;
using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Benchmarking;

/// <summary>
/// Times the in-process verification (ELF parse + layout + sweep + every-offset scan) on bytes
/// already in memory: process start, file read and printing are excluded. The first run is reported
/// separately because it includes JIT compilation, which is what a single `make` invocation pays.
/// </summary>
public static class VerificationBenchmark
{
    public sealed record Result(int Runs, double FirstMilliseconds, double MedianMilliseconds, double MinMilliseconds,
        double MaxMilliseconds, ulong BytesScanned, long GadgetDecodes, VerificationReport Report)
    {
        public double BytesPerSecond => BytesScanned / (MedianMilliseconds / 1000.0);
    }

    public static Result Measure(byte[] file, int runs, VerifierOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var times = new double[runs];
        VerificationReport? report = null;
        double first = 0;
        for (int i = 0; i <= runs; i++)
        {
            long started = Stopwatch.GetTimestamp();
            report = KernelVerifier.Verify(ElfImage.Parse(file, ElfRequirements.Elf64Executable), options);
            double elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (i == 0)
            {
                first = elapsed;
            }
            else
            {
                times[i - 1] = elapsed;
            }
        }

        Array.Sort(times);
        double median = runs % 2 == 1 ? times[runs / 2] : (times[(runs / 2) - 1] + times[runs / 2]) / 2;
        return new Result(runs, first, median, times[0], times[^1], report!.BytesScanned, report.GadgetDecodes, report);
    }

    public static void Write(TextWriter output, string fileName, Result result)
    {
        string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        output.WriteLine($"sealcheck bench: {fileName}: {result.BytesScanned} executable bytes, {result.Report.Instructions} instructions, {result.GadgetDecodes} decodes by the every-offset scan");
        output.WriteLine($"  first run (cold, includes JIT): {F(result.FirstMilliseconds)} ms");
        output.WriteLine($"  warm runs: {result.Runs}, median {F(result.MedianMilliseconds)} ms, min {F(result.MinMilliseconds)} ms, max {F(result.MaxMilliseconds)} ms");
        output.WriteLine($"  throughput (median): {F(result.BytesPerSecond / 1e6)} MB/s ({result.BytesPerSecond.ToString("0", CultureInfo.InvariantCulture)} bytes/s)");
    }
}
