namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// A background thread that watches the seed in progress: when it passes the per-seed cap it
/// samples the instruction being executed (so a hang inside one instruction is attributed) and
/// prints the seed on stderr at once; past <see cref="HardLimit"/> it prints the seed and ends the
/// process with exit code 1 (a hang that long cannot be waited out).
/// </summary>
public sealed class Watchdog : IDisposable
{
    private readonly TimeSpan _cap;
    private readonly Thread _thread;
    private readonly TextWriter _log;
    private volatile SeedWatch? _current;
    private volatile bool _stop;

    public Watchdog(TimeSpan cap, TimeSpan hardLimit, TextWriter log)
    {
        _cap = cap;
        HardLimit = hardLimit;
        _log = log;
        _thread = new Thread(Loop) { IsBackground = true, Name = "fuzz-guest watchdog" };
        _thread.Start();
    }

    public TimeSpan HardLimit { get; }

    public void Watch(SeedWatch? seed) => _current = seed;

    private void Loop()
    {
        while (!_stop)
        {
            Thread.Sleep(100);
            var seed = _current;
            if (seed is null) continue;
            var elapsed = seed.Clock.Elapsed;
            if (elapsed > _cap && seed.HangSample is null)
            {
                lock (seed.Gate)
                {
                    if (seed.Vm is { } vm) Sample(seed, vm, elapsed);
                }
            }
            if (elapsed > HardLimit)
            {
                _log.WriteLine($"fuzz-guest: FAIL seed {seed.Seed} ({seed.Mode}): Hang: still running after {elapsed.TotalSeconds:0} s (hard limit); in: {seed.HangSample}");
                _log.WriteLine($"fuzz-guest: aborting; replay with --seed {seed.Seed} --replay");
                _log.Flush();
                Environment.Exit(1);
            }
        }
    }

    private void Sample(SeedWatch seed, HekiGuest.HostSim.Machine.Execution.VirtualMachine vm, TimeSpan elapsed)
    {
        string sample;
        try
        {
            ulong rip = vm.Cpu.CurrentInstructionRip;
            sample = GuestInstruction.Describe(vm, rip);
            seed.HangMnemonic = GuestInstruction.Mnemonic(vm, rip);
            seed.HangRip = rip;
        }
        catch (Exception e)
        {
            sample = $"(could not sample: {e.GetType().Name})";
        }
        seed.HangSample = sample;
        _log.WriteLine($"fuzz-guest: seed {seed.Seed} ({seed.Mode}) still running after {elapsed.TotalSeconds:0.0} s, in: {sample}");
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
