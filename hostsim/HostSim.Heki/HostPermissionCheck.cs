using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Paging;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// The EPT-like check (docs/abi.md section 4) on every guest-physical page a guest access
/// touches: the access's own page, and each paging-structure entry its walk reads (READ) or
/// whose accessed/dirty bits it sets (WRITE). A refused access does not happen (nor its A/D
/// updates), produces one denial event, and (policy inject) reaches the guest as #PF with CR2 =
/// the linear address and the error code of a protection fault for the guest's access plus bit 31.
/// </summary>
public sealed class HostPermissionCheck(HekiHost host) : IPhysicalAccessCheck
{
    private const uint Present = 1, Write = 2, User = 4, InstructionFetch = 16;

    public bool Allow(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, PhysicalAccessCause cause, out GuestFault fault)
    {
        var map = host.Permissions;
        AccessKind needed = cause switch
        {
            PhysicalAccessCause.PageWalkRead => AccessKind.Read,
            PhysicalAccessCause.PageWalkWrite => AccessKind.Write,
            _ => kind,
        };
        if (map.IsEmpty || map.Allows(physical, needed))
        {
            fault = default;
            return true;
        }
        host.Deny(new DenialEvent(DenialKind.Memory, HekiHost.Vcpu, cpu.CurrentInstructionRip)
        {
            Gpa = physical, Gva = linear, Access = needed,
            Cause = cause == PhysicalAccessCause.Access ? null : DenialCause.PageWalk,
        });
        uint error = Present | HekiDenial.PageFaultErrorBit
            | (kind == AccessKind.Write ? Write : 0)
            | (cpl == 3 ? User : 0)
            | (kind == AccessKind.Execute ? InstructionFetch : 0);
        fault = GuestFault.PF(linear, error);
        return false;
    }
}
