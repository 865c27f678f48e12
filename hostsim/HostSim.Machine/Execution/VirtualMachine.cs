using System.Diagnostics;
using HekiGuest.HostSim.Cpu;
using Processor = HekiGuest.HostSim.Cpu.Cpu;
using HekiGuest.HostSim.Machine.Devices;
using HekiGuest.HostSim.Machine.Loading;
using HekiGuest.HostSim.Machine.Paging;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// The simulated PC: RAM with a PC memory map, one CPU, paging, IDT delivery, a 16550 at 0x3F8,
/// isa-debug-exit at 0xF4, the CMOS RTC and its NVRAM at 0x70, and the two reset requests a PC
/// guest uses (the reset control register at 0xCF9, the 8042's reset pulse at 0x64). The host
/// supplies where serial output goes; the machine does no I/O of its own.
/// </summary>
public sealed class VirtualMachine : IDisposable
{
    public const ushort SerialPort = 0x3F8;
    public const ushort DebugExitPort = 0xF4;
    private const long Batch = 1 << 20;

    public VirtualMachine(ulong memorySize, Action<byte> serialOut)
    {
        Memory = new PhysicalMemory(memorySize);
        Paging = new PagingTranslator(Memory);
        Cpu = new Processor(Memory, Paging);
        Paging.Attach(Cpu);
        Ports = new PortBus();
        Serial = new Uart16550(SerialPort, serialOut);
        DebugExit = new DebugExit(DebugExitPort);
        Ports.Attach(Serial);
        Ports.Attach(DebugExit);
        Cmos = new CmosRtc();
        ResetControl = new ResetControlRegister();
        KeyboardController = new Keyboard8042();
        Ports.Attach(Cmos);
        Ports.Attach(ResetControl);
        Ports.Attach(KeyboardController);
        Cpu.PortIo = Ports;
        DebugExit.Exited += Cpu.RequestStop;
        ResetControl.ResetRequested += GuestResetRequested;
        KeyboardController.ResetRequested += GuestResetRequested;
        Exceptions = new ExceptionDelivery(Cpu);
    }

    public PhysicalMemory Memory { get; }
    public Processor Cpu { get; }

    /// <summary>Chooses the CPU model (QEMU's -cpu). Call it before a host layer wraps CPUID with
    /// its hypervisor leaves; the page walk takes MAXPHYADDR and page sizes from the new CPUID.</summary>
    public void UseCpuModel(CpuModel model)
    {
        Cpu.Model = model;
        Paging.Attach(Cpu);
    }

    public PagingTranslator Paging { get; }
    public PortBus Ports { get; }
    public Uart16550 Serial { get; }
    public DebugExit DebugExit { get; }

    /// <summary>The CMOS RTC; its NVRAM survives <see cref="Reset"/>.</summary>
    public CmosRtc Cmos { get; }
    public ResetControlRegister ResetControl { get; }
    public Keyboard8042 KeyboardController { get; }
    public ExceptionDelivery Exceptions { get; }
    public LoadedKernel? Kernel { get; private set; }
    public ITraceSink? Trace { get; set; }

    /// <summary>What --trace, crash reports and <see cref="PeekLinear"/> must not show (null: everything is shown).</summary>
    public IHostInspectionFilter? InspectionFilter { get; set; }

    /// <summary>Debugging option: stop the VM (exit code 71) when the guest runs a valid
    /// instruction the core does not implement, instead of delivering #UD to the guest as a CPU
    /// without that instruction would. Architecturally undefined opcodes (UD0/UD1/UD2, bytes that
    /// decode to nothing) always deliver #UD.</summary>
    public bool StopOnUnimplemented { get; set; }

    /// <summary>Raised when the guest ran a valid instruction the core does not implement and
    /// gets #UD for it (without <see cref="StopOnUnimplemented"/>); the host may report it.</summary>
    public event Action<Diagnostic>? UnimplementedInstruction;

    /// <summary>Raised by <see cref="Reset"/> before the CPU is reset: host extensions (the
    /// HekiGuest ABI) drop per-VM state such as CR pins and memory permissions here.</summary>
    public event Action? Resetting;

    /// <summary>
    /// Called on the VM thread between instruction slices of <see cref="Run"/> (at most
    /// 2^20 instructions apart, sooner after <see cref="Interrupt"/>): where host userspace (a
    /// control socket) applies its commands without racing the CPU. It may block (the VM is
    /// paused), call <see cref="Reset"/> or <see cref="RequestHostStop"/>; time spent in it does
    /// not count against the run's wall-clock limit.
    /// </summary>
    public Action? SliceBoundary { get; set; }

    /// <summary>While set, every slice runs at most one instruction, so <see cref="SliceBoundary"/>
    /// runs between every two (a host debugger's single-step; an exception delivered or a host
    /// exit also ends the slice).</summary>
    public bool SingleStep { get; set; }

    /// <summary>Resets performed so far.</summary>
    public int Resets { get; private set; }

    private (byte[] Image, string CommandLine, IReadOnlyList<ModuleSpec> Modules, BootProtocol Protocol)? _bootArguments;
    private (MachineStopKind Kind, int ExitCode, string Summary)? _hostStop;
    private Action? _hostExit;
    private GuestFault? _injection;
    private string? _resetRequest;
    private long _runDeadline = long.MaxValue;

    /// <summary>Loads a kernel and puts the CPU at its 32-bit entry as the boot protocol says.</summary>
    public LoadedKernel Boot(byte[] image, string commandLine, IReadOnlyList<ModuleSpec> modules, BootProtocol protocol = BootProtocol.Auto)
    {
        _bootArguments = (image, commandLine, modules, protocol);
        var k = KernelLoader.Load(image, Memory, commandLine, modules, protocol);
        Cpu.EnterFlatProtectedMode();
        // no IDT until the kernel loads one (an exception before that is a triple fault, not a
        // delivery through whatever the power-on IDTR happens to point at)
        Cpu.Idtr = default;
        Cpu.Rip = k.EntryPoint;
        Cpu.Rflags = 0x2;
        Cpu.WriteGpr(Processor.RAX, k.Eax);
        Cpu.WriteGpr(Processor.RBX, k.Ebx);
        Kernel = k;
        Trace?.Event("boot", new Dictionary<string, object>
        {
            ["protocol"] = k.Protocol.ToString(), ["entry"] = $"0x{k.EntryPoint:x}", ["info"] = $"0x{k.BootInfoAddress:x}",
        });
        return k;
    }

    /// <summary>
    /// A platform reset: host extensions are told first (<see cref="Resetting"/>), the CPU goes
    /// back to its power-on state, and the kernel that was booted is loaded and entered again
    /// as the loader did the first time (a reboot into the same image). RAM is not cleared.
    /// </summary>
    public LoadedKernel Reset()
    {
        var boot = _bootArguments ?? throw new InvalidOperationException("reset before any kernel was booted");
        Resets++;
        Resetting?.Invoke();
        _hostStop = null;
        _hostExit = null;
        _injection = null;
        _resetRequest = null;
        Cpu.Reset();
        DebugExit.Reset();
        Trace?.Event("reset", new Dictionary<string, object> { ["count"] = Resets });
        return Boot(boot.Image, boot.CommandLine, boot.Modules, boot.Protocol);
    }

    /// <summary>A device asked for a platform reset: the instruction that asked completes, then
    /// <see cref="Run"/> returns <see cref="MachineStopKind.GuestReset"/> and host userspace
    /// decides (reset and boot again, or stop). The first request wins until the run returns.</summary>
    private void GuestResetRequested(string source)
    {
        _resetRequest ??= source;
        Cpu.RequestStop();
    }

    /// <summary>
    /// Host userspace stops the VM (e.g. the HekiGuest policy on a denial): the current
    /// instruction is abandoned and <see cref="Run"/> returns <paramref name="kind"/> with
    /// <paramref name="exitCode"/>. Safe to call from a hook in the middle of an instruction.
    /// </summary>
    public void RequestHostStop(MachineStopKind kind, int exitCode, string summary)
    {
        _hostStop ??= (kind, exitCode, summary);
        Cpu.RequestStop();
    }

    /// <summary>
    /// A VM exit handled by host code (e.g. a secure intercept to a higher VTL): the current
    /// instruction, or the exception delivery under way, is abandoned without effect, RIP is put
    /// back at that instruction, and <paramref name="exit"/> runs before the next guest
    /// instruction (it may change any guest state). Safe to call from a hook in the middle of an
    /// instruction or of a delivery; the first request wins until it has run.
    /// </summary>
    public void RequestHostExit(Action exit)
    {
        _hostExit ??= exit;
        Cpu.RequestStop();
    }

    /// <summary>The host injects <paramref name="fault"/>: it is delivered through the IDT before
    /// the next guest instruction, as a fault of the instruction at RIP (which then re-executes
    /// after the handler's IRET). A later injection before delivery replaces an earlier one.</summary>
    public void InjectException(GuestFault fault)
    {
        _injection = fault;
        Cpu.RequestStop();
    }

    /// <summary>
    /// Any thread: ends the current instruction slice early (at the CPU's next deadline check, a
    /// few blocks away) so <see cref="SliceBoundary"/> runs soon. The guest is not disturbed.
    /// </summary>
    public void Interrupt() => Volatile.Write(ref Cpu.Deadline, 0);

    /// <summary>Reads guest linear memory for the host (reports, traces): no accessed bits set, no
    /// host permission check, no TLB fill. Returns how many bytes could be read (a prefix).</summary>
    public int PeekLinear(ulong linear, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = linear + (ulong)done;
            if (!Paging.TryPeek(at, out ulong physical)) break;
            if (InspectionFilter is { } filter && filter.HidesPage(physical)) break;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), 4096 - (at & 0xFFF));
            chunk = (int)Math.Min((ulong)chunk, Memory.Size - physical);
            Memory.Slice(physical, chunk).CopyTo(destination[done..]);
            done += chunk;
        }
        return done;
    }

    /// <summary>Writes guest linear memory for the host (a debugger): translated like
    /// <see cref="PeekLinear"/> (no accessed/dirty bits, no host permission check), pages hidden by
    /// <see cref="InspectionFilter"/> excluded; decoded code on the pages written is dropped.
    /// Returns how many bytes were written (a prefix).</summary>
    public int PokeLinear(ulong linear, ReadOnlySpan<byte> source)
    {
        int done = 0;
        while (done < source.Length)
        {
            ulong at = linear + (ulong)done;
            if (!Paging.TryPeek(at, out ulong physical)) break;
            if (InspectionFilter is { } filter && filter.HidesPage(physical)) break;
            int chunk = (int)Math.Min((ulong)(source.Length - done), 4096 - (at & 0xFFF));
            chunk = (int)Math.Min((ulong)chunk, Memory.Size - physical);
            source.Slice(done, chunk).CopyTo(Memory.Slice(physical, chunk));
            Cpu.NotifyPhysicalWrite(physical);
            done += chunk;
        }
        return done;
    }

    /// <summary>The instruction bytes at <paramref name="rip"/> (CS-relative outside 64-bit mode),
    /// read like <see cref="PeekLinear"/>; returns how many could be read.</summary>
    public int PeekCode(ulong rip, Span<byte> destination) =>
        PeekLinear(rip + (Cpu.Bitness == 64 ? 0 : Cpu.Segments[Processor.CS].Base), destination);

    public MachineOutcome Run(RunLimits limits)
    {
        // the wall-clock limit also holds inside a CPU run (checked between blocks); it applies to
        // this run only
        _runDeadline = limits.Timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        Cpu.Deadline = _runDeadline;
        try
        {
            return RunUntilStop(limits);
        }
        finally
        {
            _runDeadline = long.MaxValue;
            Cpu.Deadline = long.MaxValue;
        }
    }

    private MachineOutcome RunUntilStop(RunLimits limits)
    {
        var clock = Stopwatch.StartNew();
        long start = Cpu.InstructionsRetired;
        long diagnosticsSeen = Cpu.DiagnosticsRaised;
        long deliveries = 0;
        while (true)
        {
            // restore the deadline before the host looks at its commands: an Interrupt() after
            // this point ends the next slice early instead of being lost
            Cpu.Deadline = _runDeadline;
            if (SliceBoundary is { } boundary)
            {
                clock.Stop();
                long before = Stopwatch.GetTimestamp();
                boundary();
                if (_runDeadline != long.MaxValue)
                {
                    // paused time moves the deadline; an Interrupt() meanwhile (deadline 0) stays
                    long old = _runDeadline;
                    _runDeadline += Stopwatch.GetTimestamp() - before;
                    Interlocked.CompareExchange(ref Cpu.Deadline, _runDeadline, old);
                }
                clock.Start();
            }
            // a host stop takes effect before the next guest instruction, whatever raised it
            // (an instruction, a hook, or the delivery of an exception below)
            if (_hostStop is { } stopNow)
                return Stop(stopNow.Kind, stopNow.ExitCode, stopNow.Summary, start, clock);
            // exceptions delivered count against the budget too: a guest whose handler faults
            // again at once (an unmapped handler, an IST stack that never runs out) retires
            // nothing, and must still stop
            long done = Cpu.InstructionsRetired - start + deliveries;
            if (limits.MaxInstructions is { } max && done >= max)
                return Stop(MachineStopKind.InstructionLimit, MachineOutcome.ExitTimeout, $"instruction limit of {max} reached", start, clock);
            if (limits.Timeout is { } timeout && clock.Elapsed >= timeout)
                return Stop(MachineStopKind.Timeout, MachineOutcome.ExitTimeout, $"timeout after {timeout.TotalSeconds:0.###} s", start, clock);
            if (_injection is { } injected)
            {
                // a host-injected exception, delivered before the next instruction
                _injection = null;
                // (a host stop while delivering is taken at the top of the loop)
                if (!DeliverOrExit(new PendingException(injected, false, Cpu.Rip), ref deliveries) && _hostStop is null)
                    return Stop(MachineStopKind.TripleFault, MachineOutcome.ExitTripleFault, "triple fault", start, clock);
                continue;
            }
            long batch = limits.MaxInstructions is { } m ? Math.Min(Batch, m - done) : Batch;
            if (SingleStep) batch = 1;
            StopReason reason = Trace is null ? Cpu.Run(batch) : RunTraced(batch);
            if (_hostStop is { } hostStop)
                return Stop(hostStop.Kind, hostStop.ExitCode, hostStop.Summary, start, clock);
            if (DebugExit.Value is not null)
                return Stop(MachineStopKind.GuestExit, DebugExit.ExitCode, $"guest exit: debug-exit value {DebugExit.Value.GetValueOrDefault()}", start, clock);
            if (_resetRequest is { } resetSource)
            {
                _resetRequest = null;
                return Stop(MachineStopKind.GuestReset, MachineOutcome.ExitGuestReset, $"guest reset request: {resetSource}", start, clock);
            }
            if (_hostExit is not null)
            {
                // a VM exit to host code: the instruction that raised it did not happen
                if (reason == StopReason.Exception) Cpu.Rip = Cpu.PendingException!.Value.InstructionRip;
                Cpu.ClearPendingException();
                RunHostExit(ref deliveries);
                continue;
            }
            switch (reason)
            {
                case StopReason.Exception:
                    var pending = Cpu.PendingException!.Value;
                    Cpu.ClearPendingException();
                    if (pending.Fault.Vector == GuestFault.InvalidOpcode && Cpu.DiagnosticsRaised > diagnosticsSeen)
                    {
                        // a valid instruction the core lacks: #UD to the guest like an undefined
                        // opcode, unless the host asked to stop there (a debugging option)
                        diagnosticsSeen = Cpu.DiagnosticsRaised;
                        var d = Cpu.Diagnostics[^1];
                        string what = $"unimplemented instruction at 0x{d.Rip:x}: {d.Mnemonic} [{Convert.ToHexString(d.Bytes)}] ({d.Message})";
                        if (StopOnUnimplemented)
                            return Stop(MachineStopKind.Unimplemented, MachineOutcome.ExitUnimplemented, what, start, clock);
                        Trace?.Event("unimplemented", new Dictionary<string, object> { ["summary"] = what });
                        UnimplementedInstruction?.Invoke(d);
                    }
                    if (InspectionFilter?.HidesState != true) Trace?.Event("exception", new Dictionary<string, object>
                    {
                        ["vector"] = pending.Fault.Vector, ["error"] = pending.Fault.ErrorCode, ["cr2"] = $"0x{pending.Fault.Cr2:x}", ["rip"] = $"0x{pending.InstructionRip:x}",
                    });
                    bool delivered = DeliverOrExit(pending, ref deliveries);
                    // a denial while delivering (frame push, IDT/GDT/TSS read) may have stopped the VM
                    if (_hostStop is { } deliveryStop)
                        return Stop(deliveryStop.Kind, deliveryStop.ExitCode, deliveryStop.Summary, start, clock);
                    if (!delivered)
                        return Stop(MachineStopKind.TripleFault, MachineOutcome.ExitTripleFault, "triple fault", start, clock);
                    break;
                case StopReason.Halted:
                    return Stop(MachineStopKind.HaltedForever, MachineOutcome.ExitHaltedForever,
                        $"HLT at 0x{Cpu.Rip:x} with {((Cpu.Rflags & 0x200) == 0 ? "interrupts disabled" : "no interrupt source")}: the CPU can never wake", start, clock);
            }
        }
    }

    /// <summary>Delivers <paramref name="pending"/>; a host exit requested while delivering
    /// (an access of the delivery refused for a higher VTL) abandons it with RIP back at the
    /// instruction, which raises the event again when the guest resumes. False on a triple fault
    /// or a host stop.</summary>
    private bool DeliverOrExit(PendingException pending, ref long deliveries)
    {
        bool delivered = Exceptions.Deliver(pending);
        deliveries++;
        if (_hostExit is null || _hostStop is not null) return delivered;
        Cpu.Rip = pending.InstructionRip;
        RunHostExit(ref deliveries);
        return true;
    }

    private void RunHostExit(ref long deliveries)
    {
        var exit = _hostExit!;
        _hostExit = null;
        // exits count against the instruction budget like deliveries: a guest that only ever
        // exits retires nothing and must still stop
        deliveries++;
        if (InspectionFilter?.HidesState != true) Trace?.Event("host-exit", new Dictionary<string, object> { ["rip"] = $"0x{Cpu.Rip:x}" });
        exit();
    }

    private StopReason RunTraced(long batch)
    {
        Span<byte> bytes = stackalloc byte[15];
        for (long i = 0; i < batch; i++)
        {
            ulong rip = Cpu.Rip;
            if (InspectionFilter?.HidesState != true)
            {
                int n = PeekCode(rip, bytes);
                Trace!.Instruction(Cpu.InstructionsRetired, rip, Cpu.Cpl, Cpu.Bitness, bytes[..n]);
            }
            var r = Cpu.Step();
            if (r != StopReason.InstructionLimit || DebugExit.Value is not null || _resetRequest is not null || _hostStop is not null || _hostExit is not null || _injection is not null) return r;
        }
        return StopReason.InstructionLimit;
    }

    private MachineOutcome Stop(MachineStopKind kind, int exitCode, string summary, long start, Stopwatch clock)
    {
        var outcome = new MachineOutcome(kind, exitCode, summary, Cpu.InstructionsRetired - start, clock.Elapsed);
        Trace?.Event("stop", new Dictionary<string, object> { ["kind"] = kind.ToString(), ["exit"] = exitCode, ["summary"] = summary });
        return outcome;
    }

    /// <summary>The last 32 instruction addresses the CPU started, oldest first (the last one is
    /// where it stopped or faulted).</summary>
    public IReadOnlyList<ulong> RecentInstructions() => Cpu.RecentInstructionRips();

    public void Dispose() => Memory.Dispose();
}
