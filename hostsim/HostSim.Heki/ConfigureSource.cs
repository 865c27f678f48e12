namespace HekiGuest.HostSim.Heki;

/// <summary>How an accepted lock arrived (the <c>source</c> field of a configure event).</summary>
public enum ConfigureSource
{
    /// <summary>A guest WRMSR to a PINNED MSR.</summary>
    Msr,
    /// <summary>A guest hypercall (LOCK_CR, LOCK_CR_UPDATE, PROTECT_MEMORY).</summary>
    Hypercall,
    /// <summary>Host userspace (pre-pinning before boot or after a reset).</summary>
    Host,
}
