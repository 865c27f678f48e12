namespace HekiGuest.HostSim.Vsm;

/// <summary>The secure intercepts the host delivers to VTL1 (docs/vtl.md section 11).</summary>
public enum VsmInterceptKind
{
    /// <summary>A VTL0 access a page's VTL protection does not allow (GPA intercept message).</summary>
    Memory,

    /// <summary>A VTL0 write of an intercepted control or descriptor-table register.</summary>
    Register,

    /// <summary>A VTL0 write of an intercepted MSR.</summary>
    Msr,
}
