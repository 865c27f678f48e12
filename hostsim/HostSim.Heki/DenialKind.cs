namespace HekiGuest.HostSim.Heki;

/// <summary>What was blocked (the <c>kind</c> field of a denial event).</summary>
public enum DenialKind
{
    /// <summary>A CR0/CR4 write that would clear a bit pinned high or set a bit pinned low.</summary>
    CrWrite,
    /// <summary>A write to a pinning MSR that the rules refuse.</summary>
    MsrWrite,
    /// <summary>A guest access that the host permission map refuses.</summary>
    Memory,
    /// <summary>A PROTECT_MEMORY call refused by policy (relaxing an IMMUTABLE range).</summary>
    ProtectMemory,
    /// <summary>A hypercall from CPL &gt; 0.</summary>
    Hypercall,
}

public static class DenialKinds
{
    public static string Name(DenialKind kind) => kind switch
    {
        DenialKind.CrWrite => "cr-write",
        DenialKind.MsrWrite => "msr-write",
        DenialKind.Memory => "memory",
        DenialKind.ProtectMemory => "protect-memory",
        _ => "hypercall",
    };
}
