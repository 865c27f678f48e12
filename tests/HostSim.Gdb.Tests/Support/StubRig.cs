using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Gdb.Tests.Support;

/// <summary>
/// A small 64-bit guest on an in-process VM with the stub attached through a
/// <see cref="RecordingChannel"/>: identity-mapped 0-4 MiB (2 MiB pages), nothing mapped above.
/// The guest counts RAX up to <c>iterations</c>, storing it at <see cref="Data"/> and loading
/// <see cref="Data"/>+8 each time, then exits through debug-exit (value 0, exit code 1). The VM
/// runs on its own thread, stopped before its first instruction (--gdb-wait) until the test resumes it.
/// </summary>
internal sealed class StubRig : IDisposable
{
    public const ulong Code = 0x100000, Data = 0x200000, Unmapped = 0x800000;
    private readonly Task<MachineOutcome> _run;

    public StubRig(long iterations = 100_000, IGdbVtlView? vtl = null)
    {
        Vm = new VirtualMachine(8UL << 20, _ => { });
        // PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000: 0-4 MiB identity, 2 MiB pages
        FlatLongModeGuest.WriteU64(Vm, 0x1000, 0x2003);
        FlatLongModeGuest.WriteU64(Vm, 0x2000, 0x3003);
        FlatLongModeGuest.WriteU64(Vm, 0x3000, 0x000083);
        FlatLongModeGuest.WriteU64(Vm, 0x3008, 0x200083);
        FlatLongModeGuest.Enter(Vm, 0x1000, 0x5000, 0x6000, 0x7000, 0x9000, 0x9800, 0xA000, Code);
        Loop = FlatLongModeGuest.Emit(Vm, Code, a => a.xor(eax, eax));
        Store = FlatLongModeGuest.Emit(Vm, Loop, a => a.inc(rax));
        Load = FlatLongModeGuest.Emit(Vm, Store, a => a.mov(__qword_ptr[(long)Data], rax));
        Compare = FlatLongModeGuest.Emit(Vm, Load, a => a.mov(rbx, __qword_ptr[(long)Data + 8]));
        ulong jump = FlatLongModeGuest.Emit(Vm, Compare, a => { a.mov(rcx, iterations); a.cmp(rax, rcx); });
        Exit = FlatLongModeGuest.Emit(Vm, jump, a => a.jne(Loop));
        FlatLongModeGuest.Emit(Vm, Exit, a => { a.mov(al, 0); a.@out(0xF4, al); a.hlt(); });
        Machine = new GdbMachine(Vm, vtl);
        Stub = new GdbStub(Machine);
        Stub.WaitForAttach();
        Vm.SliceBoundary = Stub.OnSliceBoundary;
        Stub.ClientConnected(Channel);
        _run = Task.Factory.StartNew(() => Vm.Run(new RunLimits(TimeSpan.FromSeconds(60), null)), TaskCreationOptions.LongRunning);
    }

    public VirtualMachine Vm { get; }
    public GdbMachine Machine { get; }
    public GdbStub Stub { get; }
    public RecordingChannel Channel { get; } = new();
    public ulong Loop { get; }
    public ulong Store { get; }
    public ulong Load { get; }
    public ulong Compare { get; }
    public ulong Exit { get; }

    /// <summary>Sends a packet and returns the stub's reply.</summary>
    public string Ask(string packet)
    {
        Stub.Received(packet);
        return Channel.Next();
    }

    /// <summary>Sends a resume packet (c, s, vCont) and returns the stop reply.</summary>
    public string Resume(string packet = "c") => Ask(packet);

    public ulong Rip => Register("rip");

    public ulong Register(string name)
    {
        var r = GdbTargetDescription.Find(name)!;
        string hex = Ask($"p{r.Number:x}");
        ulong v = 0;
        for (int i = hex.Length / 2 - 1; i >= 0; i--) v = (v << 8) | Convert.ToByte(hex.Substring(2 * i, 2), 16);
        return v;
    }

    public MachineOutcome WaitForEnd()
    {
        Assert.True(_run.Wait(TimeSpan.FromSeconds(60)), "the VM did not stop");
        return _run.Result;
    }

    public void Dispose()
    {
        if (!_run.IsCompleted)
        {
            Stub.Received("k");
            _run.Wait(TimeSpan.FromSeconds(30));
        }
        Vm.Dispose();
    }
}
