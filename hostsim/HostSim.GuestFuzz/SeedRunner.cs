using System.Diagnostics;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// Runs one seed: builds its <see cref="FuzzGuest"/>, arms the protections through the guest's
/// boot stub, snapshots them, launches the random code and runs the VM until the instruction
/// budget is used up. A HLT that can never wake and a write to the debug-exit port are resumed
/// (RIP is already after the instruction); an
/// unimplemented or undecodable instruction (exit 71, which stops the VM today) is resumed by
/// delivering #UD to the guest, as the core will do itself, and counted. Then the checks: no host
/// exception, instructions within budget + <see cref="BudgetSlack"/>, wall time below the cap,
/// protections intact.
/// </summary>
public static class SeedRunner
{
    /// <summary>Instructions a run may retire past its budget: the VM checks the budget between
    /// CPU runs, and a software interrupt that ends a run is counted as retired.</summary>
    public const long BudgetSlack = 16;

    /// <summary>Optional: called with the guest after the run, before it is disposed (replays, tests).</summary>
    public delegate void Inspect(FuzzGuest guest, ProtectionSnapshot? snapshot);

    public static SeedResult Run(long seed, FuzzOptions options, Watchdog? watchdog = null, Action<FuzzGuest>? beforeRun = null, Inspect? inspect = null)
    {
        var mode = FuzzMode.ForSeed(seed);
        var watch = new SeedWatch(seed, mode);
        watchdog?.Watch(watch);
        var failures = new List<SeedFailure>();
        var stop = SeedStop.InstructionLimit;
        long instructions = 0;
        long delivered = 0;
        int unimplemented = 0, halts = 0, exits = 0;
        int[] denials = new int[Enum.GetValues<HekiGuest.HostSim.Heki.DenialKind>().Length];
        var mnemonics = new List<string>();
        string? tripleFault = null;
        FuzzGuest? guest = null;
        try
        {
            guest = new FuzzGuest(seed, mode, options.LargeAliasWindow, options.Code);
            watch.Vm = guest.Vm;
            if (guest.Arm() is { } armError)
            {
                failures.Add(new SeedFailure(FailureKind.SetupFailed, armError, [GuestInstruction.Last(guest.Vm)]));
                stop = SeedStop.SetupFailed;
                return Finish();
            }
            var snapshot = ProtectionSnapshot.Take(guest);
            guest.Launch();
            beforeRun?.Invoke(guest);
            var vm = guest.Vm;
            // stop at each instruction the core lacks so it is counted, then give the guest the
            // #UD it would get anyway
            vm.StopOnUnimplemented = true;
            long start = vm.Cpu.InstructionsRetired;
            long deliveredBefore = vm.Exceptions.Delivered;
            int diagnosticsBefore = vm.Cpu.Diagnostics.Count;
            while (true)
            {
                // the VM's budget counts exceptions delivered too (a guest that only faults stops)
                long done = vm.Cpu.InstructionsRetired - start + (vm.Exceptions.Delivered - deliveredBefore);
                long remaining = options.MaxInstructions - done;
                if (remaining <= 0) break;
                var left = options.SeedTimeout - watch.Clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    stop = SeedStop.Timeout;
                    break;
                }
                var outcome = vm.Run(new RunLimits(left, remaining));
                if (outcome.Kind == MachineStopKind.InstructionLimit) continue;
                if (outcome.Kind == MachineStopKind.HaltedForever)
                {
                    halts++;
                    continue;
                }
                if (outcome.Kind == MachineStopKind.GuestExit)
                {
                    // an OUT to the debug-exit port: random code at CPL 0 (or with IOPL 3) does that
                    exits++;
                    vm.DebugExit.Reset();
                    continue;
                }
                if (outcome.Kind == MachineStopKind.GuestReset)
                {
                    // an OUT to port 0xCF9 or 0x64 asked for a platform reset: the harness does
                    // not reset (the seed goes on after the OUT, like after a debug exit)
                    exits++;
                    continue;
                }
                if (outcome.Kind == MachineStopKind.Unimplemented)
                {
                    unimplemented++;
                    if (!vm.Exceptions.Deliver(new PendingException(GuestFault.UD(), false, vm.Cpu.Rip)))
                    {
                        stop = SeedStop.TripleFault;
                        break;
                    }
                    continue;
                }
                stop = outcome.Kind switch
                {
                    MachineStopKind.TripleFault => SeedStop.TripleFault,
                    MachineStopKind.Denied => SeedStop.Denied,
                    _ => SeedStop.Timeout,
                };
                break;
            }
            if (stop == SeedStop.TripleFault) tripleFault = TripleFaultCause(vm);
            instructions = vm.Cpu.InstructionsRetired - start;
            delivered = vm.Exceptions.Delivered - deliveredBefore;
            var diagnostics = vm.Cpu.Diagnostics;
            for (int i = diagnosticsBefore; i < diagnostics.Count; i++) mnemonics.Add(diagnostics[i].Mnemonic);
            if (stop == SeedStop.Timeout || watch.Clock.Elapsed > options.SeedTimeout)
            {
                failures.Add(new SeedFailure(FailureKind.Hang,
                    $"{watch.Clock.Elapsed.TotalSeconds:0.00} s for {instructions} instructions (cap {options.SeedTimeout.TotalSeconds:0.##} s)",
                    [watch.HangSample is { } sample ? "in progress at the cap: " + sample : "last: " + GuestInstruction.Last(vm)])
                    { Signature = HangSignature(vm, watch) });
            }
            if (instructions > options.MaxInstructions + BudgetSlack)
                failures.Add(new SeedFailure(FailureKind.BudgetOverrun, $"{instructions} instructions retired, budget {options.MaxInstructions} + {BudgetSlack}", []));
            if (options.StrictUd && unimplemented > 0)
                failures.Add(new SeedFailure(FailureKind.Unimplemented, $"{unimplemented} unimplemented-instruction stops: {string.Join(", ", mnemonics.Distinct())}",
                    vm.Cpu.Diagnostics.Skip(diagnosticsBefore).Take(3).Select(d => d.ToString()).ToList()));
            foreach (var v in snapshot.Violations(guest))
                failures.Add(new SeedFailure(FailureKind.ProtectionBroken, v, [$"last: {GuestInstruction.Last(vm)}"])
                {
                    Signature = "protection broken: " + v.Split(" at gpa ")[0].Split(" of gpa ")[0].Split(':')[0],
                });
            inspect?.Invoke(guest, snapshot);
        }
        catch (Exception e)
        {
            stop = SeedStop.HostException;
            var detail = new List<string>();
            if (guest is not null)
            {
                try
                {
                    detail.Add("at: " + GuestInstruction.Describe(guest.Vm, guest.Cpu.CurrentInstructionRip));
                }
                catch (Exception)
                {
                    detail.Add("at: (the instruction could not be read)");
                }
            }
            detail.AddRange(TopFrames(e, 6));
            failures.Add(new SeedFailure(FailureKind.HostException, $"{e.GetType().FullName}: {e.Message}", detail)
            {
                Signature = $"host exception {e.GetType().Name} {TopFrames(e, 1).FirstOrDefault()}",
            });
        }
        return Finish();

        SeedResult Finish()
        {
            watchdog?.Watch(null);
            watch.Retire();
            if (guest is not null)
            {
                guest.Events.ByKind.CopyTo(denials, 0);
                guest.Dispose();
            }
            return new SeedResult(seed, mode, stop, instructions, watch.Clock.Elapsed, delivered, denials, unimplemented, halts, exits, mnemonics, tripleFault, failures);
        }
    }

    /// <summary>Why a seed hung, as far as the harness can tell: RIP at the core's "no breakpoint"
    /// sentinel (nothing executes), an exception delivery loop (the handler's first fetch faults
    /// again, so nothing retires), or the instruction that was running at the cap.</summary>
    private static string HangSignature(VirtualMachine vm, SeedWatch watch)
    {
        var cpu = vm.Cpu;
        if (cpu.Rip == Processor.NoBreak) return "hang: RIP = 0xffffffffffffffff (Cpu.NoBreak), no instruction executes";
        bool inText = watch.HangSample is not null
            ? watch.HangRip >= GuestLayout.Text && watch.HangRip < GuestLayout.StubsEnd
            : cpu.Rip >= GuestLayout.Text && cpu.Rip < GuestLayout.StubsEnd;
        if (inText && vm.Exceptions.LastChain.Count > 0)
            return $"hang: exception delivery loop ({HekiGuest.HostSim.Machine.Reporting.CrashReport.VectorName(vm.Exceptions.LastChain[0].Vector)} at the handler's own fetch), nothing retires";
        string? name = watch.HangSample is not null ? watch.HangMnemonic : GuestInstruction.Mnemonic(vm, vm.RecentInstructions() is { Count: > 0 } r ? r[^1] : cpu.Rip);
        return $"hang in {name ?? "(unreadable)"}";
    }

    /// <summary>The delivery chain that ended in a triple fault, compactly: "#DF(INT) > #GP(0x42)".</summary>
    private static string TripleFaultCause(VirtualMachine vm) => string.Join(" > ", vm.Exceptions.LastChain.Select(f =>
        HekiGuest.HostSim.Machine.Reporting.CrashReport.VectorName(f.Vector) + (f.ErrorCode is { } e ? $"(0x{e:x})" : "")));

    private static IEnumerable<string> TopFrames(Exception e, int count)
    {
        var frames = new StackTrace(e, fNeedFileInfo: false).GetFrames();
        return frames.Take(count).Select(f => f.GetMethod() is { } m ? $"at {m.DeclaringType?.FullName}.{m.Name}" : "at ?");
    }
}
