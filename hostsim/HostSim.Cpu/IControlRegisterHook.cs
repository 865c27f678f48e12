namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Asked before a MOV to CR0/CR3/CR4/CR8 (and XSETBV as register 100) takes effect, after the core's
/// own reserved-bit checks. Return false to refuse: the guest gets #GP(0) and the register is unchanged.
/// </summary>
public interface IControlRegisterHook
{
    bool AllowWrite(Cpu cpu, int register, ulong oldValue, ulong newValue);
}
