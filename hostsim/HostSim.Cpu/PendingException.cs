namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// An exception the core raised and the machine must deliver through the IDT. For faults RIP still
/// points at the faulting instruction and its effects were not committed; for software interrupts
/// (INT n, INT3, INTO) <see cref="Cpu.Rip"/> already points at the next instruction. A trap
/// (<paramref name="IsTrap"/>: #DB for single-step, data and I/O breakpoints, INT1/ICEBP, and a
/// fault found while loading a new task's state after a committed task switch) is
/// delivered like a hardware exception (no gate DPL check) with <see cref="Cpu.Rip"/>, the next
/// instruction, as the return address; <paramref name="InstructionRip"/> is the one that caused it.
/// </summary>
public readonly record struct PendingException(GuestFault Fault, bool IsSoftwareInterrupt, ulong InstructionRip, bool IsTrap = false);
