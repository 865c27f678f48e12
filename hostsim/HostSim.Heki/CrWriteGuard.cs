using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// Enforces the pins on every CR0/CR4 write (MOV to CR, and any other path through the CPU's
/// control-register write): a value that clears a PINNED_HIGH bit or sets a PINNED_LOW bit is
/// refused, the guest gets #GP(0), the register keeps its value, and a denial event is emitted.
/// </summary>
public sealed class CrWriteGuard(HekiHost host) : IControlRegisterHook
{
    public bool AllowWrite(Cpu.Cpu cpu, int register, ulong oldValue, ulong newValue)
    {
        if (!CrPinState.IsPinnable(register) || !host.Pins.Violates(register, newValue)) return true;
        host.Deny(new DenialEvent(DenialKind.CrWrite, HekiHost.Vcpu, cpu.CurrentInstructionRip) { Cr = register, Value = newValue });
        return false;
    }
}
