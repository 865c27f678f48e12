using System.Diagnostics;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>Runs generated cases on both CPUs and reports every mismatch with its seed and both states.</summary>
internal sealed class DifferentialFuzzer : IDisposable
{
    private readonly DifferentialRig _rig = new();
    private readonly CaseGenerator _gen;

    public DifferentialFuzzer()
    {
        _gen = new CaseGenerator(_rig);
    }

    public DifferentialRig Rig => _rig;

    public long InterpreterTicks, HostTicks, GenTicks;

    public CaseGenerator Generator => _gen;

    /// <summary>Per-case RNG seed, so one case can be replayed from (seed, index).</summary>
    public static int CaseSeed(int seed, long index)
    {
        // splitmix64: deterministic across processes (HashCode.Combine is randomised per process)
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    public sealed record Result(long Cases, long Mismatches, List<string> Reports, Dictionary<string, int> FormCounts, Dictionary<string, int> FailingForms, TimeSpan Elapsed);

    public Result Run(int seed, long cases, long start = 0, int maxReports = 20, Action<string>? progress = null)
    {
        var reports = new List<string>();
        var forms = new Dictionary<string, int>();
        var failing = new Dictionary<string, int>();
        long mismatches = 0;
        var sw = Stopwatch.StartNew();
        for (long i = start; i < start + cases; i++)
        {
            long g0 = Stopwatch.GetTimestamp();
            var r = new Random(CaseSeed(seed, i));
            var c = _gen.Next(r);
            GenTicks += Stopwatch.GetTimestamp() - g0;
            forms[c.Form] = forms.GetValueOrDefault(c.Form) + 1;
            string? diff = Check(c);
            if (diff != null)
            {
                mismatches++;
                failing[c.Form] = failing.GetValueOrDefault(c.Form) + 1;
                if (failing[c.Form] <= 2 && reports.Count < maxReports)
                {
                    reports.Add($"MISMATCH seed={seed} case={i} ({c.Description})\n{diff}");
                }
            }
            if (progress != null && (i - start + 1) % 1_000_000 == 0)
            {
                progress($"{i - start + 1} cases, {mismatches} mismatches, {sw.Elapsed.TotalSeconds:F1} s");
            }
        }
        return new Result(cases, mismatches, reports, forms, failing, sw.Elapsed);
    }

    /// <summary>Runs one case on both sides; null when they agree.</summary>
    public string? Check(DifferentialCase c)
    {
        long t0 = Stopwatch.GetTimestamp();
        var (emu, fault) = _rig.RunInterpreter(c.Code, c.Input);
        long t1 = Stopwatch.GetTimestamp();
        InterpreterTicks += t1 - t0;
        string code = Convert.ToHexString(c.Code);
        if (emu == null)
        {
            return $"code={code}\ninterpreter faulted where the host cannot: {fault}\ninput:\n{c.Input}";
        }
        var host = _rig.RunHost(c.Code, c.Input);
        long ht = Stopwatch.GetTimestamp() - t1;
        HostTicks += ht;
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 16; i++)
        {
            if ((c.IgnoreGprMask & (1 << i)) == 0 && host.Gpr[i] != emu.Gpr[i])
            {
                sb.Append($"  {MachineState.RegName(i)}: host=0x{host.Gpr[i]:x16} emu=0x{emu.Gpr[i]:x16}\n");
            }
        }
        if (((host.Rflags ^ emu.Rflags) & c.FlagsMask) != 0)
        {
            sb.Append($"  rflags: host=0x{host.Rflags:x} emu=0x{emu.Rflags:x} (compared bits 0x{c.FlagsMask:x})\n");
        }
        for (int i = 0; i < 16; i++)
        {
            if (host.XmmLo[i] != emu.XmmLo[i] || host.XmmHi[i] != emu.XmmHi[i])
            {
                sb.Append($"  xmm{i}: host=0x{host.XmmHi[i]:x16}_{host.XmmLo[i]:x16} emu=0x{emu.XmmHi[i]:x16}_{emu.XmmLo[i]:x16}\n");
            }
        }
        if (c.IgnoreGprMask != 0xFFFF)
        {
            CompareBytes(sb, "data", _rig.DataStart, host.Data, emu.Data);
        }
        CompareBytes(sb, "stack", _rig.StackStart, host.Stack, emu.Stack);
        if (sb.Length == 0)
        {
            return null;
        }
        return $"code={code}\n{sb}input:\n{c.Input}host:\n{host}emu:\n{emu}";
    }

    private static void CompareBytes(System.Text.StringBuilder sb, string what, ulong baseAddr, byte[] host, byte[] emu)
    {
        for (int i = 0; i < host.Length; i++)
        {
            if (host[i] != emu[i])
            {
                sb.Append($"  {what}[0x{baseAddr + (ulong)i:x}]: host=0x{host[i]:x2} emu=0x{emu[i]:x2}\n");
                return;
            }
        }
    }

    public void Dispose() => _rig.Dispose();
}
