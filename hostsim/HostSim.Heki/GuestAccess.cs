using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>Names of access kinds in events ("read", "write", "execute").</summary>
public static class GuestAccess
{
    public static string Name(AccessKind kind) => kind switch
    {
        AccessKind.Write => "write",
        AccessKind.Execute => "execute",
        _ => "read",
    };
}
