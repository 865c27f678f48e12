using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Asks the host filter first, then the hook that was installed before it.</summary>
internal sealed class FilteredControlRegisterHook(IRegisterWriteFilter filter, IControlRegisterHook? next) : IControlRegisterHook
{
    public bool AllowWrite(Cpu.Cpu cpu, int register, ulong oldValue, ulong newValue) =>
        filter.AllowControlRegisterWrite(register, oldValue, newValue, cpu.CurrentInstructionRip)
        && (next is null || next.AllowWrite(cpu, register, oldValue, newValue));
}
