using System.Diagnostics;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>The seed running now, as the <see cref="Watchdog"/> sees it from its own thread: a
/// hang inside one instruction cannot be seen from the running thread, so the watchdog samples the
/// instruction in progress when the seed passes its cap.</summary>
public sealed class SeedWatch(long seed, FuzzMode mode)
{
    public long Seed { get; } = seed;
    public FuzzMode Mode { get; } = mode;
    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public volatile VirtualMachine? Vm;

    /// <summary>Held by the watchdog while it samples <see cref="Vm"/> and by the runner while it
    /// retires it, so the guest's memory is never unmapped under a sample.</summary>
    public object Gate { get; } = new();

    /// <summary>The runner is done with the VM: no sample may start from now on.</summary>
    public void Retire()
    {
        lock (Gate) Vm = null;
    }

    /// <summary>The instruction in progress when the cap passed (set by the watchdog).</summary>
    public volatile string? HangSample;

    /// <summary>The mnemonic of <see cref="HangSample"/> ("rep stosb").</summary>
    public volatile string? HangMnemonic;

    /// <summary>The RIP of <see cref="HangSample"/>.</summary>
    public ulong HangRip;
}
