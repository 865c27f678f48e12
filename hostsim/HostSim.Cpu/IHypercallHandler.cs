namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// VMCALL / VMMCALL. The handler reads and writes guest registers through <see cref="Cpu"/>.
/// Returning a fault raises it in the guest (e.g. #UD when no hypervisor interface is offered,
/// which is also the behaviour when no handler is installed).
/// </summary>
public interface IHypercallHandler
{
    GuestFault? Hypercall(Cpu cpu, bool isVmmcall);
}
