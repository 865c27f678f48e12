using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Paging;

/// <summary>
/// A check on a guest-physical page touched for a guest access: where host-enforced (EPT-like,
/// per-VTL) permissions plug in. The translator asks it for the access's final page and for
/// every paging-structure entry the walk reads or updates (<paramref name="cause"/>); the right
/// needed is READ for a walk read, WRITE for an accessed/dirty update, else what
/// <paramref name="kind"/> says. <paramref name="kind"/>, <paramref name="cpl"/> and
/// <paramref name="linear"/> always describe the guest access the walk is for (they make the
/// fault's error code and CR2). Returning false raises <paramref name="fault"/> and nothing of
/// the access or its walk is written. Host-side peeks (crash reports, traces) do not come here.
/// </summary>
public interface IPhysicalAccessCheck
{
    bool Allow(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, PhysicalAccessCause cause, out GuestFault fault);
}
