using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Paging;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// The EPT-like check after the guest's page walk (docs/abi.md section 4): an access that the
/// permission map refuses does not happen, produces a denial event, and (policy inject) reaches
/// the guest as #PF with CR2 = the linear address and the error code of a protection fault plus
/// bit 31.
/// </summary>
public sealed class HostPermissionCheck(HekiHost host) : IPhysicalAccessCheck
{
    private const uint Present = 1, Write = 2, User = 4, InstructionFetch = 16;

    public bool Allow(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, out GuestFault fault)
    {
        var map = host.Permissions;
        if (map.IsEmpty || map.Allows(physical, kind))
        {
            fault = default;
            return true;
        }
        host.Deny(new DenialEvent(DenialKind.Memory, HekiHost.Vcpu, cpu.CurrentInstructionRip) { Gpa = physical, Gva = linear, Access = kind });
        uint error = Present | HekiDenial.PageFaultErrorBit
            | (kind == AccessKind.Write ? Write : 0)
            | (cpl == 3 ? User : 0)
            | (kind == AccessKind.Execute ? InstructionFetch : 0);
        fault = GuestFault.PF(linear, error);
        return false;
    }
}
