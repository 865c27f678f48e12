using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Puts an <see cref="IRegisterWriteFilter"/> in front of the CPU's control-register and
/// MSR hooks, whatever host interface installed them (or none, as under --profile none).</summary>
public static class RegisterWriteFilterHooks
{
    /// <summary>Wraps the hooks installed now; install after the host interface has set its own.</summary>
    public static void Install(VirtualMachine vm, IRegisterWriteFilter filter)
    {
        var cpu = vm.Cpu;
        cpu.ControlRegisterHook = new FilteredControlRegisterHook(filter, cpu.ControlRegisterHook);
        cpu.MsrHook = new FilteredMsrHook(filter, cpu.MsrHook);
    }
}
