namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// An exception the core raised and the machine must deliver through the IDT. For faults RIP still
/// points at the faulting instruction and its effects were not committed; for software interrupts
/// (INT n, INT3, INTO) <see cref="Cpu.Rip"/> already points at the next instruction.
/// </summary>
public readonly record struct PendingException(GuestFault Fault, bool IsSoftwareInterrupt, ulong InstructionRip);
