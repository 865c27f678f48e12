namespace HekiGuest.HostSim.Cpu;

/// <summary>What stopped a run for a host-side debugger (a gdb stub), as opposed to the guest's
/// own debug registers: see <see cref="Cpu.TakeHostDebugEvent"/>.</summary>
public enum HostDebugEventKind : byte
{
    None = 0,

    /// <summary>RIP reached a host breakpoint; the instruction there has not run.</summary>
    Breakpoint = 1,

    /// <summary>An instruction touched a host watchpoint; it completed, RIP is the next one.</summary>
    Watchpoint = 2,
}

/// <summary>A host debug stop: its kind, the breakpoint's RIP or the data address accessed, which
/// host watchpoint slots matched (bit i = slot i), and whether the access was a write.</summary>
public readonly record struct HostDebugEvent(HostDebugEventKind Kind, ulong Address, uint Slots, bool Write);
