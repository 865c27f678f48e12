namespace HekiGuest.HostSim.Vsm;

/// <summary>A VTL change the host reports to host userspace (the --events file) and counts.</summary>
public enum VsmVtlEvent
{
    PartitionVtlEnabled,
    VpVtlEnabled,
    VtlCall,
    VtlReturn,
    /// <summary>VTL1 removed itself (HekiHvExtension.RemoveVtl1, docs/vtl.md section 17).</summary>
    Vtl1Removed,
    /// <summary>VTL1 asked to be removed and host userspace's policy refused.</summary>
    Vtl1RemovalDenied,
}
