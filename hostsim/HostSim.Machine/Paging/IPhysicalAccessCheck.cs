using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Paging;

/// <summary>
/// A check on the guest-physical page after the guest's own page walk: where host-enforced
/// (EPT-like, per-VTL) permissions plug in. Returning false raises <paramref name="fault"/>.
/// <paramref name="cpl"/> is the privilege of the access (0 for implicit supervisor accesses).
/// Host-side peeks (crash reports, traces) do not come here.
/// </summary>
public interface IPhysicalAccessCheck
{
    bool Allow(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, out GuestFault fault);
}
