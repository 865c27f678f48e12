using System.Diagnostics;
using HekiGuest.HostSim.Cpu;
using Processor = HekiGuest.HostSim.Cpu.Cpu;
using HekiGuest.HostSim.Machine.Devices;
using HekiGuest.HostSim.Machine.Loading;
using HekiGuest.HostSim.Machine.Paging;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// The simulated PC: RAM with a PC memory map, one CPU, paging, IDT delivery, a 16550 at 0x3F8
/// and isa-debug-exit at 0xF4. The host supplies where serial output goes; the machine does no
/// I/O of its own.
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
        Cpu.PortIo = Ports;
        DebugExit.Exited += Cpu.RequestStop;
        Exceptions = new ExceptionDelivery(Cpu);
    }

    public PhysicalMemory Memory { get; }
    public Processor Cpu { get; }
    public PagingTranslator Paging { get; }
    public PortBus Ports { get; }
    public Uart16550 Serial { get; }
    public DebugExit DebugExit { get; }
    public ExceptionDelivery Exceptions { get; }
    public LoadedKernel? Kernel { get; private set; }
    public ITraceSink? Trace { get; set; }

    /// <summary>Loads a kernel and puts the CPU at its 32-bit entry as the boot protocol says.</summary>
    public LoadedKernel Boot(byte[] image, string commandLine, IReadOnlyList<ModuleSpec> modules, BootProtocol protocol = BootProtocol.Auto)
    {
        var k = KernelLoader.Load(image, Memory, commandLine, modules, protocol);
        Cpu.EnterFlatProtectedMode();
        Cpu.Rip = k.EntryPoint;
        Cpu.Rflags = 0x2;
        Cpu.Gpr[Processor.RAX] = k.Eax;
        Cpu.Gpr[Processor.RBX] = k.Ebx;
        Kernel = k;
        Trace?.Event("boot", new Dictionary<string, object>
        {
            ["protocol"] = k.Protocol.ToString(), ["entry"] = $"0x{k.EntryPoint:x}", ["info"] = $"0x{k.BootInfoAddress:x}",
        });
        return k;
    }

    public MachineOutcome Run(RunLimits limits)
    {
        var clock = Stopwatch.StartNew();
        long start = Cpu.InstructionsRetired;
        int diagnosticsSeen = Cpu.Diagnostics.Count;
        while (true)
        {
            long done = Cpu.InstructionsRetired - start;
            if (limits.MaxInstructions is { } max && done >= max)
                return Stop(MachineStopKind.InstructionLimit, MachineOutcome.ExitTimeout, $"instruction limit of {max} reached", start, clock);
            if (limits.Timeout is { } timeout && clock.Elapsed >= timeout)
                return Stop(MachineStopKind.Timeout, MachineOutcome.ExitTimeout, $"timeout after {timeout.TotalSeconds:0.###} s", start, clock);
            long batch = limits.MaxInstructions is { } m ? Math.Min(Batch, m - done) : Batch;
            StopReason reason = Trace is null ? Cpu.Run(batch) : RunTraced(batch);
            if (DebugExit.Value is not null)
                return Stop(MachineStopKind.GuestExit, DebugExit.ExitCode, $"guest exit: debug-exit value {DebugExit.Value}", start, clock);
            switch (reason)
            {
                case StopReason.Exception:
                    var pending = Cpu.PendingException!.Value;
                    Cpu.ClearPendingException();
                    if (pending.Fault.Vector == GuestFault.InvalidOpcode && Cpu.Diagnostics.Count > diagnosticsSeen)
                    {
                        var d = Cpu.Diagnostics[^1];
                        return Stop(MachineStopKind.Unimplemented, MachineOutcome.ExitUnimplemented,
                            $"unimplemented instruction at 0x{d.Rip:x}: {d.Mnemonic} [{Convert.ToHexString(d.Bytes)}] ({d.Message})", start, clock);
                    }
                    Trace?.Event("exception", new Dictionary<string, object>
                    {
                        ["vector"] = pending.Fault.Vector, ["error"] = pending.Fault.ErrorCode, ["cr2"] = $"0x{pending.Fault.Cr2:x}", ["rip"] = $"0x{pending.InstructionRip:x}",
                    });
                    if (!Exceptions.Deliver(pending))
                        return Stop(MachineStopKind.TripleFault, MachineOutcome.ExitTripleFault, "triple fault", start, clock);
                    break;
                case StopReason.Halted:
                    return Stop(MachineStopKind.HaltedForever, MachineOutcome.ExitHaltedForever,
                        $"HLT at 0x{Cpu.Rip:x} with {((Cpu.Rflags & 0x200) == 0 ? "interrupts disabled" : "no interrupt source")}: the CPU can never wake", start, clock);
            }
        }
    }

    private StopReason RunTraced(long batch)
    {
        Span<byte> bytes = stackalloc byte[15];
        for (long i = 0; i < batch; i++)
        {
            ulong rip = Cpu.Rip;
            int n = 15;
            while (n > 0 && Cpu.TryReadLinear(rip + Cpu.Segments[Processor.CS].Base, bytes[..n]) is not null) n--;
            Trace!.Instruction(Cpu.InstructionsRetired, rip, Cpu.Cpl, Cpu.Bitness, bytes[..n]);
            var r = Cpu.Step();
            if (r != StopReason.InstructionLimit || DebugExit.Value is not null) return r;
        }
        return StopReason.InstructionLimit;
    }

    private MachineOutcome Stop(MachineStopKind kind, int exitCode, string summary, long start, Stopwatch clock)
    {
        var outcome = new MachineOutcome(kind, exitCode, summary, Cpu.InstructionsRetired - start, clock.Elapsed);
        Trace?.Event("stop", new Dictionary<string, object> { ["kind"] = kind.ToString(), ["exit"] = exitCode, ["summary"] = summary });
        return outcome;
    }

    /// <summary>The most recently executed instruction addresses, oldest first (empty if the
    /// core keeps no history).</summary>
    public IReadOnlyList<ulong> RecentInstructions() => [];

    public void Dispose() => Memory.Dispose();
}
