using HekiGuest.HostSim.Cpu.Bench.Differential;
using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// The interpreter against the host CPU: same code, same start state, compare registers, the defined
/// flags, XMM and memory. Skipped (passes trivially) on hosts that are not Linux x86-64.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("HOSTSIM_DIFF_SEED"), out int s) ? s : 20261122;

    [Fact]
    public void EveryImplementedFormMatchesTheHost()
    {
        if (!RwxRegion.IsSupported) return;
        using var fuzzer = new DifferentialFuzzer();
        var failures = new List<string>();
        int cases = 0;
        foreach (var code in InstructionForms.All)
        {
            var r = new Random(DifferentialFuzzer.CaseSeed(Seed, (int)code));
            for (int i = 0; i < 24; i++)
            {
                var c = fuzzer.Generator.ForCode(r, code);
                Assert.True(c != null, $"generator cannot build {code}");
                cases++;
                var diff = fuzzer.Check(c!);
                if (diff != null && failures.Count < 10) failures.Add($"{code}: {diff}");
            }
        }
        for (int t = 0; t < CaseGenerator.Templates.Count; t++)
        {
            var r = new Random(DifferentialFuzzer.CaseSeed(Seed, 1_000_000 + t));
            for (int i = 0; i < 300; i++)
            {
                var c = fuzzer.Generator.Template(r, t);
                if (c == null) continue;
                cases++;
                var diff = fuzzer.Check(c);
                if (diff != null && failures.Count < 10) failures.Add($"{CaseGenerator.Templates[t]}: {diff}");
            }
        }
        output.WriteLine($"{InstructionForms.All.Length} forms, {CaseGenerator.Templates.Count} templates, {cases} cases");
        Assert.True(InstructionForms.All.Length > 600, "form enumeration shrank unexpectedly");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void HundredThousandRandomCasesMatchTheHost()
    {
        if (!RwxRegion.IsSupported) return;
        using var fuzzer = new DifferentialFuzzer();
        var result = fuzzer.Run(Seed, 100_000, 0, 5);
        output.WriteLine($"{result.Cases} cases, {result.FormCounts.Count} forms, {result.Elapsed.TotalSeconds:F1} s, seed {Seed}");
        Assert.True(result.Mismatches == 0, $"{result.Mismatches} mismatches (seed {Seed}):\n" + string.Join("\n\n", result.Reports));
    }

    [Fact]
    public void TheComparisonCanFail()
    {
        if (!RwxRegion.IsSupported) return;
        using var fuzzer = new DifferentialFuzzer();
        var c = fuzzer.Generator.ForCode(new Random(1), Iced.Intel.Code.Add_rm64_r64)!;
        // corrupt the start state of the host run only: the checker must notice
        var tampered = c with { Code = [0x48, 0xFF, 0xC0] }; // inc rax
        var (emu, _) = fuzzer.Rig.RunInterpreter(tampered.Code, tampered.Input);
        var host = fuzzer.Rig.RunHost([0x48, 0xFF, 0xC8], tampered.Input); // dec rax
        Assert.NotNull(emu);
        Assert.NotEqual(host.Gpr[0], emu!.Gpr[0]);
    }
}
