using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Paging;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// VTL1's protections of VTL0's memory, checked on every guest-physical page a VTL0 access
/// touches (the walker's host-permission hook, the same path as every host-enforced permission):
/// the access's own page, each paging-structure entry the walk reads (READ) and each whose
/// accessed/dirty bits it sets (WRITE), including the accesses of exception delivery. Execution
/// needs KERNEL_EXECUTE, or USER_EXECUTE at CPL 3 when VTL1 was enabled with MBEC. A refused
/// access does not happen: it becomes a secure intercept to VTL1 (GPA intercept message), and
/// VTL0 re-executes the instruction when VTL1 returns. VTL1's own accesses are never restricted.
/// </summary>
public sealed class VtlProtectionCheck(VsmHost host) : IPhysicalAccessCheck
{
    public bool Allow(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, PhysicalAccessCause cause, out GuestFault fault)
    {
        fault = default;
        var map = host.Partition.Vtl0Protections;
        if (!map.Enabled || host.CurrentVtl != 0) return true;
        AccessKind needed = cause switch
        {
            PhysicalAccessCause.PageWalkRead => AccessKind.Read,
            PhysicalAccessCause.PageWalkWrite => AccessKind.Write,
            _ => kind,
        };
        uint right = needed switch
        {
            AccessKind.Read => HvMapGpa.Read,
            AccessKind.Write => HvMapGpa.Write,
            _ => cpl == 3 && host.Partition.MbecEnabled(HvVtl.MaxVtl) ? HvMapGpa.UserExecute : HvMapGpa.KernelExecute,
        };
        if (!map.Denies(physical, right)) return true;
        host.Intercepts.Memory(cpu, linear, physical, needed, cause != PhysicalAccessCause.Access);
        // the fault is never delivered: the host exit abandons the access and enters VTL1
        fault = GuestFault.PF(linear, 1);
        return false;
    }
}
