using System.Diagnostics;
using HekiGuest.HostSim.Cli;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Control.Bench;

/// <summary>`make bench-gdb`: the gdb stub's single-step rate over RSP (TCP loopback, no acks, as gdb
/// runs after QStartNoAckMode) and the overhead of an attached gdb that lets the guest run.</summary>
internal static class GdbBench
{
    private static ControlSettings Settings(bool gdb, bool wait) => ControlSettings.Merge(new HostPolicy(),
        new ControlSettings.CommandLine(null, null, [], null, null, null, Gdb: gdb ? "tcp::0" : null, GdbWait: wait));

    private static (VirtualMachine Vm, HostControlSetup Control) Boot(byte[] image, bool gdb, bool wait)
    {
        var vm = new VirtualMachine(128UL << 20, _ => { });
        var control = new HostControlSetup(vm, Settings(gdb, wait), new HekiHostOptions(), null);
        vm.Boot(image, "", [], BootProtocol.Auto);
        return (vm, control);
    }

    public static void StepRate()
    {
        var (vm, control) = Boot(BenchGuest.Compute(1_000_000_000), gdb: true, wait: true);
        using var _ = vm;
        using var __ = control;
        var runner = new Thread(() => control.Run(new RunLimits(TimeSpan.FromSeconds(600), null))) { IsBackground = true };
        runner.Start();
        using var gdb = new RspBenchClient(control.GdbPort!.Value);
        const int n = 20_000;
        for (int i = 0; i < 500; i++) gdb.Ask("s");                     // warm up
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            if (!gdb.Ask("s").StartsWith("T05", StringComparison.Ordinal)) throw new InvalidOperationException("a step did not stop");
        }
        double bare = n / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < n / 4; i++)
        {
            gdb.Ask("s");
            gdb.Ask("g");                                                // what gdb's stepi reads after each stop
        }
        double withRegisters = n / 4 / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"gdb single-step over RSP (TCP loopback, no-ack mode; load average {LoadAverage()}):");
        Console.WriteLine($"  s alone:        {bare:0} steps/s ({1e6 / bare:0.0} us per step), {n} steps");
        Console.WriteLine($"  s then g:       {withRegisters:0} steps/s ({1e6 / withRegisters:0.0} us per step), {n / 4} steps");
        gdb.Send("k");
        runner.Join(TimeSpan.FromSeconds(30));
    }

    public static void IdleOverhead(int rounds)
    {
        const uint iterations = 25_000_000;                               // 150 M instructions
        var image = BenchGuest.Compute(iterations);
        var plain = new List<double>();
        var idle = new List<double>();
        Measure(image, false);
        Measure(image, true);
        for (int i = 0; i < rounds; i++)
        {
            plain.Add(Measure(image, false));
            idle.Add(Measure(image, true));
        }
        double p = Median(plain), q = Median(idle), pb = plain.Max(), qb = idle.Max();
        Console.WriteLine($"compute guest ({iterations * 6 / 1_000_000} M instructions), {rounds} alternating runs in one process (load average {LoadAverage()}):");
        Console.WriteLine($"  no gdb stub:                   median {p:0.0} MIPS, best {pb:0.0} MIPS");
        Console.WriteLine($"  gdb attached, continued, idle: median {q:0.0} MIPS, best {qb:0.0} MIPS");
        Console.WriteLine($"  attached idle gdb cost:        median {(p - q) / p * 100:0.00} %, best {(pb - qb) / pb * 100:0.00} % (target < 2 %)");
    }

    /// <summary>One run's MIPS; with a gdb, it attaches at the first instruction (--gdb-wait) and continues.</summary>
    private static double Measure(byte[] image, bool gdb)
    {
        var (vm, control) = Boot(image, gdb, wait: gdb);
        using var _ = vm;
        using var __ = control;
        RspBenchClient? client = null;
        if (gdb)
        {
            // queued now, handled by the VM thread at its first boundary inside Run below
            client = new RspBenchClient(control.GdbPort!.Value, noAck: false);
            client.Send("?");
            client.Send("c");
        }
        using var ___ = client;
        var outcome = control.Run(new RunLimits(TimeSpan.FromSeconds(120), null));
        if (outcome.Kind != MachineStopKind.GuestExit) throw new InvalidOperationException(outcome.Summary);
        if (client is not null && (!client.Reply().StartsWith("T05", StringComparison.Ordinal) || client.Reply() != "W01"))
            throw new InvalidOperationException("gdb was not told of the stop and the exit");
        // the run's wall time, including gdb's attach at the first instruction (a few ms of the ~2 s)
        return outcome.Mips;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "unknown"; }
    }
}
