namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// What the host's own inspection paths (--trace, crash reports, <see cref="VirtualMachine.PeekLinear"/>)
/// must not show: guest memory and state bound to a more privileged guest context (a VTL above 0)
/// unless the VM was started with an explicit opt-in. Policy is the host extension's; the machine
/// only asks.
/// </summary>
public interface IHostInspectionFilter
{
    /// <summary>The CPU runs a hidden context now: its instructions and registers are not shown.</summary>
    bool HidesState { get; }

    /// <summary>The guest-physical page holding <paramref name="physical"/> is hidden.</summary>
    bool HidesPage(ulong physical);

    /// <summary>One line saying what is hidden and how to show it.</summary>
    string Notice { get; }
}
