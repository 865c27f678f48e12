using System.Diagnostics;
using System.Runtime.InteropServices;
using HekiGuest.HostSim.Cpu.Bench.Differential;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Bench;

/// <summary>
/// Guest MIPS of the interpreter. Each workload first runs for 2 s (at least 3 runs) to warm the
/// block cache and to let the JIT replace the interpreter loop's first-tier code with its
/// optimised, profile-guided version, then N timed runs (default 9). Reported: the median and the best run, both as wall-clock MIPS
/// and as MIPS per CPU-second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID, which other
/// processes on a shared machine do not inflate, though they still evict caches).
/// </summary>
internal static partial class Benchmarks
{
    private const ulong CodeBase = 0x1000, ReturnStub = 0x800, StackTop = 0x80000, AotBase = 0x10000, DataBase = 0x100000;
    private const int DataSize = 64 * 1024;
    private const int WarmupRuns = 3;
    private static int _runs = 9;
    private static double _warmupSeconds = 2.0;

    public static int Run(string[] args)
    {
        string only = "";
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--runs": _runs = int.Parse(Value()); break;
                case "--only": only = Value(); break;
                case "--warmup": _warmupSeconds = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown bench option '{args[i]}'");
            }
        }
        if (_runs < 1) throw new ArgumentException("--runs must be positive");
        Console.WriteLine($"bench-cpu: {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {_runs} timed runs after {_warmupSeconds:0.#} s (and at least {WarmupRuns} runs) of warm-up, median and best; the CPU runs in slices of 100,000 instructions like a machine loop; load average {LoadAverage()}");
        if (only is "" or "a") Report("(a) integer loop, registers + memory (mov/add/xor/and/inc/dec/jnz)", IntegerLoop(true));
        if (only is "" or "a2") Report("    same loop without flag-writing ALU ops (mov/lea only + dec/jnz)", IntegerLoop(false));
        if (only is "nop" || Environment.GetEnvironmentVariable("HOSTSIM_BENCH_NOPS") == "1") Report("    dispatch only (nop x6 + dec/jnz)", IntegerLoop(null));
        if (only is not ("" or "b")) return 0;
        var aot = AotChecksum();
        Report($"(b) NativeAOT checksum (ilc 10.0.14, {aot.CodeBytes} bytes of code) over {DataSize / 1024} KiB, 20 calls per run", aot.Runs);
        Console.WriteLine($"    guest result 0x{aot.GuestResult:x16}, managed reference 0x{aot.Expected:x16}: {(aot.GuestResult == aot.Expected ? "match" : "MISMATCH")}");
        return aot.GuestResult == aot.Expected ? 0 : 1;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static void Report(string name, List<(long Instructions, double Seconds, double CpuSeconds)> runs)
    {
        var mips = runs.Select(r => r.Instructions / r.Seconds / 1e6).OrderBy(x => x).ToList();
        var cpuMips = runs.Select(r => r.Instructions / r.CpuSeconds / 1e6).OrderBy(x => x).ToList();
        if (Environment.GetEnvironmentVariable("HOSTSIM_BENCH_VERBOSE") == "1")
        {
            Console.WriteLine("    runs (thread-CPU MIPS, in order): " + string.Join(" ", runs.Select(r => $"{r.Instructions / r.CpuSeconds / 1e6:F0}")));
        }
        Console.WriteLine($"{name}: {mips[mips.Count / 2]:F1} MIPS wall median, {mips[^1]:F1} best (worst {mips[0]:F1}); "
            + $"{cpuMips[cpuMips.Count / 2]:F1} MIPS per thread-CPU-second median, {cpuMips[^1]:F1} best; {runs[0].Instructions / 1e6:F1} M instructions per run");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, out Timespec ts);

    /// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), else of the process.</summary>
    private static double ThreadCpuSeconds()
    {
        if (OperatingSystem.IsLinux() && ClockGettime(3, out var ts) == 0)
        {
            return ts.Seconds + ts.Nanoseconds * 1e-9;
        }
        return System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    private static (PhysicalMemory, Cpu) NewGuest()
    {
        var mem = new PhysicalMemory(4 << 20);
        var cpu = new Cpu(mem);
        cpu.EnterFlatLongMode();
        return (mem, cpu);
    }

    private static void Place(PhysicalMemory mem, Assembler a, ulong at)
    {
        var w = new ByteListWriter();
        a.Assemble(w, at);
        w.ToArray().CopyTo(mem.Slice(at, w.ToArray().Length));
    }

    private static List<(long, double, double)> IntegerLoop(bool? withFlags)
    {
        var (mem, cpu) = NewGuest();
        using var _ = mem;
        var a = new Assembler(64);
        var top = a.CreateLabel();
        a.mov(rsi, DataBase);
        a.xor(edx, edx);
        a.mov(ebx, 0x12345);
        a.Label(ref top);
        if (withFlags == null)
        {
            for (int k = 0; k < 6; k++) a.nop();
        }
        else if (withFlags == true)
        {
            a.mov(rax, __qword_ptr[rsi + rdx * 8]);
            a.add(rax, rbx);
            a.xor(rbx, rax);
            a.mov(__qword_ptr[rsi + rdx * 8], rax);
            a.inc(edx);
            a.and(edx, 1023);
        }
        else
        {
            a.mov(rax, __qword_ptr[rsi + rdx * 8]);
            a.lea(rax, __[rax + rbx * 2 + 7]);
            a.mov(rbx, rax);
            a.mov(__qword_ptr[rsi + rdx * 8], rax);
            a.lea(edx, __[rdx + 1]);
            a.movzx(edx, dl);
        }
        a.dec(rcx);
        a.jnz(top);
        a.hlt();
        Place(mem, a, CodeBase);
        return Measure(cpu, () =>
        {
            cpu.Rip = CodeBase;
            cpu.Gpr[Cpu.RCX] = 5_000_000;
            cpu.Gpr[Cpu.RSP] = StackTop;
            var stop = RunSliced(cpu);
            if (stop != StopReason.Halted) throw new InvalidOperationException($"loop stopped: {stop} {cpu.PendingException}");
        });
    }

    /// <summary>
    /// Warm-up runs (at least <see cref="WarmupRuns"/> and at least <see cref="_warmupSeconds"/>
    /// of them, so that the JIT has replaced the first-tier/OSR code of the interpreter loop with
    /// its optimised, profile-guided version), then the timed runs.
    /// </summary>
    private static List<(long, double, double)> Measure(Cpu cpu, Action run)
    {
        var warm = Stopwatch.StartNew();
        bool verbose = Environment.GetEnvironmentVariable("HOSTSIM_BENCH_VERBOSE") == "1";
        for (int i = 0; i < WarmupRuns || warm.Elapsed.TotalSeconds < _warmupSeconds; i++)
        {
            long jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
            run();
            if (verbose) Console.Write($"[w{i} {warm.Elapsed.TotalSeconds:F2}s +{System.Runtime.JitInfo.GetCompiledMethodCount() - jitted}] ");
        }
        if (verbose) Console.WriteLine();
        var runs = new List<(long, double, double)>();
        for (int i = 0; i < _runs; i++)
        {
            long before = cpu.InstructionsRetired;
            double cpu0 = ThreadCpuSeconds();
            var sw = Stopwatch.StartNew();
            run();
            sw.Stop();
            double cpuTime = ThreadCpuSeconds() - cpu0;
            runs.Add((cpu.InstructionsRetired - before, sw.Elapsed.TotalSeconds, cpuTime));
        }
        return runs;
    }

    /// <summary>Runs in slices of 100,000 instructions until something other than the budget stops the CPU, as a machine loop does (it polls devices between slices).</summary>
    private static StopReason RunSliced(Cpu cpu)
    {
        StopReason stop;
        do
        {
            stop = cpu.Run(100_000);
        }
        while (stop == StopReason.InstructionLimit);
        return stop;
    }

    internal sealed record AotResult(List<(long, double, double)> Runs, int CodeBytes, ulong GuestResult, ulong Expected);

    internal static byte[] LoadAotBlob(out int entry)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Aot");
        entry = int.Parse(File.ReadAllText(Path.Combine(dir, "checksum.entry")).Trim());
        return File.ReadAllBytes(Path.Combine(dir, "checksum.bin"));
    }

    internal static AotResult AotChecksum()
    {
        var blob = LoadAotBlob(out int entry);
        var (mem, cpu) = NewGuest();
        using var _ = mem;
        blob.CopyTo(mem.Slice(AotBase, blob.Length));
        mem.Slice(ReturnStub, 1)[0] = 0xF4; // hlt
        var data = mem.Slice(DataBase, DataSize);
        ulong x = 0x9E3779B97F4A7C15;
        for (int i = 0; i < DataSize; i++)
        {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            data[i] = (byte)x;
        }
        ulong expected = ManagedChecksum.Compute(data.ToArray(), DataSize - 3);
        ulong result = 0;
        var runs = Measure(cpu, () =>
        {
            for (int call = 0; call < 20; call++)
            {
                ulong sp = StackTop - 8;
                BitConverter.TryWriteBytes(mem.Slice(sp, 8), ReturnStub);
                cpu.Gpr[Cpu.RSP] = sp;
                cpu.Gpr[Cpu.RDI] = DataBase;
                cpu.Gpr[Cpu.RSI] = DataSize - 3; // odd length: the byte-wise CRC tail runs too
                cpu.Rip = AotBase + (ulong)entry;
                var stop = RunSliced(cpu);
                if (stop != StopReason.Halted) throw new InvalidOperationException($"checksum stopped: {stop} {cpu.PendingException} {string.Join(";", cpu.Diagnostics)}");
                result = cpu.Gpr[Cpu.RAX];
            }
        });
        return new AotResult(runs, blob.Length, result, expected);
    }
}
