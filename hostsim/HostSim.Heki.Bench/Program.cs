using System.Diagnostics;
using HekiGuest.Abi;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Heki.Bench;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

// make bench-heki: what the HekiGuest host interface costs a guest on hostsim. Each figure is a
// guest loop of N iterations run in-process after a warm-up; the time of an empty loop with the
// same counter is subtracted, so the numbers are per operation. Median of 5 runs.
const int Iterations = 200_000;
const int Runs = 7;
ulong version = HekiHypercall.DefaultBase + HekiHypercall.Version;
ulong lockCrVersion = HekiHypercall.DefaultBase + HekiHypercall.LockCr;
const ulong Cr4Base = 0x620;                         // PAE | OSFXSR | OSXMMEXCPT as the bench guest runs
const ulong Cr4Pinned = Cr4Base | HekiCrBits.Cr4Smep | HekiCrBits.Cr4Umip;

Console.WriteLine($"machine: {Environment.ProcessorCount} CPUs, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine($"each figure: a {Iterations:N0}-iteration guest loop minus the same loop with an empty body, run alternately");
Console.WriteLine($"in one VM after a warm-up; best of {Runs} (the machine may be busy: the minimum is the least disturbed run)");

Measure("hypercall VERSION round trip (mov rax, nr; vmcall)", new HekiHostOptions(), a => { a.mov(rax, version); a.vmcall(); }, 2);
Measure("hypercall LOCK_CR version query (arguments set up, vmcall)", new HekiHostOptions(),
    a => { a.mov(rax, lockCrVersion); a.xor(ebx, ebx); a.xor(ecx, ecx); a.mov(edx, 1); a.vmcall(); }, 5);
Measure("MOV CR4 without a host interface (--profile none)", new HekiHostOptions { Profile = HekiHostProfile.None },
    a => { a.mov(rax, Cr4Base); a.mov(cr4, rax); }, 2);
Measure("MOV CR0 toggling WP, pins off (xor rax, WP; mov cr0, rax: drops only the write TLB)", new HekiHostOptions { Profile = HekiHostProfile.None },
    a => { a.mov(rax, cr0); a.xor(rax, 0x10000); a.mov(cr0, rax); }, 3);
Measure("MOV CR4 checked against pins and allowed (SMEP|UMIP pinned)", new HekiHostOptions { PrePinCr4 = HekiCrBits.Cr4Smep | HekiCrBits.Cr4Umip },
    a => { a.mov(rax, Cr4Pinned); a.mov(cr4, rax); }, 2, cr4: Cr4Pinned);
Measure("MOV CR4 clearing a pinned bit: denied, event, #GP delivered, handler skips it", new HekiHostOptions { PrePinCr4 = HekiCrBits.Cr4Smep },
    a => { a.mov(rax, Cr4Base); a.mov(cr4, rax); }, 1 + 3, cr4: Cr4Base | HekiCrBits.Cr4Smep);   // the faulting MOV does not retire; the handler's 3 do
Measure("write to a read-only page: denied, event, #PF with bit 31 delivered, handler skips it", new HekiHostOptions(),
    a => a.mov(__qword_ptr[rbx], rax), 3, setup: guest =>
    {
        const ulong page = 0x500000;
        if (guest.Host.Permissions.Apply([new HekiRange { GuestPhysicalStart = page, PageCount = 1, Permissions = HekiPermission.Read }]) != HekiError.Success)
            throw new InvalidOperationException("bench set-up: PROTECT_MEMORY refused");
        guest.Vm.Cpu.FlushTlb();
        guest.Vm.Cpu.WriteGpr(HekiGuest.HostSim.Cpu.Cpu.RBX, page);
    });   // the faulting MOV does not retire; the handler's 3 do

void Measure(string name, HekiHostOptions options, Action<Assembler> body, int bodyInstructions, ulong cr4 = 0, Action<BenchGuest>? setup = null)
{
    if (args.Length > 0 && !name.Contains(args[0], StringComparison.Ordinal)) return;   // one figure: its name contains the argument
    using var guest = new BenchGuest(options);
    if (cr4 != 0) guest.Vm.Cpu.Cr4 = cr4;
    setup?.Invoke(guest);
    Action<Assembler> Loop(Action<Assembler> b, int n) => a =>
    {
        var top = a.CreateLabel();
        a.mov(r12d, n);
        a.Label(ref top);
        b(a);
        a.dec(r12);
        a.jnz(top);
    };
    // Warm-up: the decode cache, and the JIT's tiers. The interpreter loop and the hook paths are
    // recompiled with full optimisation only after they have run for a while (about 2 s for the
    // loop, see hostsim/HostSim.Cpu/DESIGN.md), so each case runs until the time has passed.
    var warm = Stopwatch.StartNew();
    while (warm.Elapsed < TimeSpan.FromSeconds(2.5))
    {
        guest.Run(Loop(body, Iterations));
        guest.Run(Loop(_ => { }, Iterations));
    }
    double best = double.MaxValue, bestEmpty = double.MaxValue;
    long instructions = 0, emptyInstructions = 0;
    int denialsBefore = guest.Host.DenialCount;
    for (int r = 0; r < Runs; r++)
    {
        var clock = Stopwatch.StartNew();
        var outcome = guest.Run(Loop(body, Iterations));
        best = Math.Min(best, clock.Elapsed.TotalNanoseconds / Iterations);
        instructions = outcome.Instructions;
        clock.Restart();
        var empty = guest.Run(Loop(_ => { }, Iterations));
        bestEmpty = Math.Min(bestEmpty, clock.Elapsed.TotalNanoseconds / Iterations);
        emptyInstructions = empty.Instructions;
    }
    double perOp = best - bestEmpty;
    double guestInstructions = (double)(instructions - emptyInstructions) / Iterations;
    int denials = (guest.Host.DenialCount - denialsBefore) / Runs;
    double loopMips = instructions / (best * Iterations / 1000.0);        // the whole loop (body + dec/jnz), best run
    Console.WriteLine($"  {name}: {perOp:0} ns per operation, {guestInstructions:0.0} guest instructions"
        + $" (body {bodyInstructions}){(denials > 0 ? $", {denials:N0} denials per run" : "")}; empty loop {bestEmpty:0} ns per iteration; loop {loopMips:0.0} MIPS");
}
