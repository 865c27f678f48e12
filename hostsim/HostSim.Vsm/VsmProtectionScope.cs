namespace HekiGuest.HostSim.Vsm;

/// <summary>What a protection change reported to host userspace covered.</summary>
public enum VsmProtectionScope
{
    /// <summary>VTL protection was enabled with a default mask for every page not named.</summary>
    Default,

    /// <summary>ModifyVtlProtectionMask named pages.</summary>
    Pages,
}
