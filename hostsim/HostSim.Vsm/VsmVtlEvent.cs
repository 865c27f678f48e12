namespace HekiGuest.HostSim.Vsm;

/// <summary>A VTL change the host reports to host userspace (the --events file) and counts.</summary>
public enum VsmVtlEvent
{
    PartitionVtlEnabled,
    VpVtlEnabled,
    VtlCall,
    VtlReturn,
}
