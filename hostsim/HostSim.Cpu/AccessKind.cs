namespace HekiGuest.HostSim.Cpu;

/// <summary>What a guest memory access is for; the translator checks permissions by it.</summary>
public enum AccessKind : byte
{
    Read = 0,
    Write = 1,
    Execute = 2,
}
