using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using HekiGuest.HostSim.Cli;
using HekiGuest.HostSim.Control.Bench;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;

// make bench-qmp [BENCH_QMP_ROUNDS=n]: QMP round trip and idle control-socket overhead.
// make bench-gdb [BENCH_GDB_ROUNDS=n] (argument "gdb"): gdb single-step rate over RSP and the cost of an attached, idle gdb.
if (args is ["gdb"])
{
    int gdbRounds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_GDB_ROUNDS"), out int g) && g > 0 ? g : 7;
    GdbBench.StepRate();
    GdbBench.IdleOverhead(gdbRounds);
    return 0;
}
if (args.Length > 0)
{
    Console.Error.WriteLine($"hostsim-qmp-bench: unexpected argument '{args[0]}' (none, or gdb)");
    return 2;
}
int rounds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_QMP_ROUNDS"), out int r) && r > 0 ? r : 7;
string dir = Path.Combine("/tmp", $"qmpb-{Environment.ProcessId}");
Directory.CreateDirectory(dir);
try
{
    RoundTrip(Path.Combine(dir, "rt.sock"));
    IdleOverhead(Path.Combine(dir, "idle.sock"), rounds);
}
finally
{
    Directory.Delete(dir, recursive: true);
}
return 0;

static ControlSettings Settings(string? socket) => ControlSettings.Merge(new HostPolicy(),
    new ControlSettings.CommandLine(null, null, [], null, null, socket is null ? null : $"unix:{socket},server,wait=off"));

static (VirtualMachine Vm, HostControlSetup Control) Boot(byte[] image, string? socket)
{
    var vm = new VirtualMachine(128UL << 20, _ => { });
    var control = new HostControlSetup(vm, Settings(socket), new HekiHostOptions(), null);
    vm.Boot(image, "", [], BootProtocol.Auto);
    return (vm, control);
}

static void RoundTrip(string socket)
{
    var (vm, control) = Boot(BenchGuest.Spin(), socket);
    var runner = new Thread(() => control.Run(new RunLimits(TimeSpan.FromSeconds(120), null))) { IsBackground = true };
    runner.Start();
    using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    s.Connect(new UnixDomainSocketEndPoint(socket));
    var reader = new StreamReader(new NetworkStream(s), Encoding.UTF8);
    reader.ReadLine();                                                  // greeting
    byte[] caps = Encoding.UTF8.GetBytes("{\"execute\":\"qmp_capabilities\"}\n");
    s.Send(caps);
    reader.ReadLine();
    const int n = 2000;
    Console.WriteLine($"QMP query-status round trip, {n} requests over the Unix socket (load average {LoadAverage()}):");
    Report("running guest", Times(s, reader, n, "running"));
    s.Send(Encoding.UTF8.GetBytes("{\"execute\":\"stop\"}\n"));
    while (reader.ReadLine() is { } l && !l.Contains("\"return\"")) { }
    Report("paused guest", Times(s, reader, n, "paused"));
    s.Send(Encoding.UTF8.GetBytes("{\"execute\":\"quit\"}\n"));
    runner.Join(TimeSpan.FromSeconds(30));
    control.Dispose();
    vm.Dispose();
}

static double[] Times(Socket s, StreamReader reader, int n, string status)
{
    byte[] query = Encoding.UTF8.GetBytes("{\"execute\":\"query-status\"}\n");
    var us = new double[n];
    for (int i = 0; i < n + 200; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        s.Send(query);
        string? line;
        do line = reader.ReadLine(); while (line is not null && line.Contains("\"event\""));
        long t1 = Stopwatch.GetTimestamp();
        if (line is null || !line.Contains($"\"{status}\"")) throw new InvalidOperationException($"unexpected reply {line}");
        if (i >= 200) us[i - 200] = (t1 - t0) * 1e6 / Stopwatch.Frequency;   // the first 200 warm up
    }
    Array.Sort(us);
    return us;
}

static void Report(string what, double[] us) =>
    Console.WriteLine($"  {what,-14} median {us[us.Length / 2]:0} us, p90 {us[us.Length * 9 / 10]:0} us, p99 {us[us.Length * 99 / 100]:0} us");

static string LoadAverage()
{
    try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
    catch (IOException) { return "unknown"; }
}

static void IdleOverhead(string socket, int rounds)
{
    const uint iterations = 25_000_000;                                   // 150 M instructions
    var image = BenchGuest.Compute(iterations);
    var plain = new List<double>();
    var idle = new List<double>();
    Measure(image, null);                                                 // warm up both paths
    Measure(image, socket);
    for (int i = 0; i < rounds; i++)
    {
        plain.Add(Measure(image, null));
        idle.Add(Measure(image, socket));
    }
    double p = Median(plain), q = Median(idle), pb = plain.Max(), qb = idle.Max();
    Console.WriteLine($"compute guest ({iterations * 6 / 1_000_000} M instructions), {rounds} alternating runs in one process (load average {LoadAverage()}):");
    Console.WriteLine($"  no control socket:        median {p:0.0} MIPS, best {pb:0.0} MIPS");
    Console.WriteLine($"  idle --qmp (no client):   median {q:0.0} MIPS, best {qb:0.0} MIPS");
    Console.WriteLine($"  idle control socket cost: median {(p - q) / p * 100:0.00} %, best {(pb - qb) / pb * 100:0.00} % (target < 2 %)");
}

static double Measure(byte[] image, string? socket)
{
    var (vm, control) = Boot(image, socket);
    using var _ = vm;
    using var __ = control;
    var outcome = control.Run(new RunLimits(TimeSpan.FromSeconds(120), null));
    if (outcome.Kind != MachineStopKind.GuestExit) throw new InvalidOperationException(outcome.Summary);
    return outcome.Mips;
}

static double Median(List<double> xs)
{
    var s = xs.Order().ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}
