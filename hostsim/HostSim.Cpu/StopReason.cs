namespace HekiGuest.HostSim.Cpu;

/// <summary>Why <see cref="Cpu.Run"/> returned.</summary>
public enum StopReason : byte
{
    /// <summary>The instruction budget is used up.</summary>
    InstructionLimit = 0,

    /// <summary>HLT executed; RIP points after it.</summary>
    Halted = 1,

    /// <summary>An exception is pending in <see cref="Cpu.PendingException"/>; the machine delivers it.</summary>
    Exception = 2,

    /// <summary>RIP reached <see cref="Cpu.BreakAt"/> before executing it.</summary>
    Breakpoint = 3,

    /// <summary>The wall-clock <see cref="Cpu.Deadline"/> passed; nothing is pending and the
    /// guest can be resumed.</summary>
    Deadline = 4,
}
