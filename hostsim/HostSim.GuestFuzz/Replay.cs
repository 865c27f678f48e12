using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Reporting;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// <c>--seed N --replay</c>: one seed, verbosely: the guest's setup, the machine's events (first and
/// last exceptions and stops), the first denials, the result with every failure, the CPU state
/// (the crash report's registers, control registers and fault chain) and the last 64 instructions
/// executed, disassembled in the mode each ran in. The run is traced instruction by instruction,
/// which executes the same instructions as the block interpreter (slower).
/// </summary>
public static class Replay
{
    public static SeedResult Run(long seed, FuzzOptions options, TextWriter w)
    {
        var trace = new ReplayTrace();
        var mode = FuzzMode.ForSeed(seed);
        if (options.Code is { } code) w.WriteLine($"  repro code at offset 0 of the code area: {Convert.ToHexString(code).ToLowerInvariant()} (the rest INT3)");
        w.WriteLine($"fuzz-guest replay: seed {seed}, {mode}, budget {options.MaxInstructions:N0} instructions, cap {options.SeedTimeout.TotalSeconds:0.##} s");
        using var watchdog = new Watchdog(options.SeedTimeout, TimeSpan.FromSeconds(Math.Max(60, options.SeedTimeout.TotalSeconds * 30)), w);
        var result = SeedRunner.Run(seed, options, watchdog, beforeRun: guest =>
        {
            w.WriteLine($"  protections armed ({(guest.ReadU64(HandlerText.PinWithHypercall) != 0 ? "pins through LOCK_CR" : "pins through the MSRs")}, "
                + $"{ProtectionPlan.Ranges.Length} IMMUTABLE ranges); entry CS 0x{guest.ReadU64(GuestLayout.EntryCs):x} SS 0x{guest.ReadU64(GuestLayout.EntrySs):x} "
                + $"RSP 0x{guest.ReadU64(GuestLayout.EntryRsp):x} RFLAGS 0x{guest.ReadU64(GuestLayout.EntryRflags):x}");
            w.WriteLine("  GPRs: " + string.Join(" ", Enumerable.Range(0, 16).Select(r => $"r{r}=0x{guest.Cpu.ReadGpr(r):x}")));
            guest.Vm.Trace = trace;
        }, inspect: (guest, _) =>
        {
            w.WriteLine($"  machine events: {trace.EventCount:N0}; first:");
            foreach (var e in trace.FirstEvents) w.WriteLine("    " + e);
            if (trace.LastEvents.Count > 0)
            {
                w.WriteLine("  last:");
                foreach (var e in trace.LastEvents) w.WriteLine("    " + e);
            }
            w.WriteLine($"  mode changes outside the handler: {trace.ModeChanges.Count}");
            foreach (var m in trace.ModeChanges) w.WriteLine("    " + m);
            w.WriteLine($"  denials: {guest.Events.Total:N0}; first:");
            foreach (var d in guest.Events.First.Take(16)) w.WriteLine($"    {DenialKinds.Name(d.Kind)}: {d.Describe()}");
            var outcome = new MachineOutcome(MachineStopKind.InstructionLimit, 0, "end of the seed", guest.Cpu.InstructionsRetired, TimeSpan.Zero);
            w.Write(CrashReport.Format(guest.Vm, outcome, GuestInstruction.Symbols, []));
            w.WriteLine("  last exception delivery chain: " + string.Join(" -> ", guest.Vm.Exceptions.LastChain.Select(f =>
                $"{CrashReport.VectorName(f.Vector)} error {(f.ErrorCode is { } e ? $"0x{e:x}" : "-")} cr2 0x{f.Cr2:x} at 0x{f.Rip:x}")));
            w.WriteLine($"  last {ReplayTrace.Capacity} instructions traced (oldest first):");
            foreach (var line in trace.LastInstructions()) w.WriteLine("    " + line);
        });
        w.WriteLine($"  stop {result.Stop}, {result.Instructions:N0} instructions, {result.ExceptionsDelivered:N0} exceptions delivered, "
            + $"{result.Denials:N0} denials, {result.HaltsResumed} HLT and {result.ExitsResumed} debug-exit writes resumed, {result.UnimplementedStops} unimplemented stops "
            + $"({string.Join(", ", result.UnimplementedMnemonics.Distinct())}), {result.Elapsed.TotalMilliseconds:0} ms");
        foreach (var f in result.Failures) w.WriteLine("  FAIL " + f);
        w.WriteLine(result.Failed ? $"fuzz-guest replay: seed {seed} FAILED" : $"fuzz-guest replay: seed {seed} clean");
        return result;
    }
}
