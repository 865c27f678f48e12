namespace HekiGuest.Sdk
{
    /// <summary>Which host interface a guest talks to.</summary>
    public enum HekiProfile
    {
        None,
        /// <summary>The HekiGuest ABI v1 (docs/abi.md), found by CPUID scan.</summary>
        Heki,
        /// <summary>The June 2020 paravirtual CR pinning MSRs (opt-in only).</summary>
        CrPin2020,
        /// <summary>Heki RFC v3's LOCK_CR_UPDATE hypercall (opt-in only).</summary>
        HekiV3,
    }
}
