namespace HekiGuest.HostSim.Heki;

/// <summary>
/// For a <see cref="DenialKind.Memory"/> denial that the guest's access did not make itself: who
/// touched the page on its behalf (the <c>cause</c> field of the event; absent for the access itself).
/// </summary>
public enum DenialCause
{
    /// <summary>The CPU's page walk: reading a paging-structure entry or setting its accessed/dirty bits.</summary>
    PageWalk,
    /// <summary>The host reading or writing guest memory for a hypercall (its argument buffer).</summary>
    Hypercall,
}

public static class DenialCauses
{
    public static string Name(DenialCause cause) => cause switch
    {
        DenialCause.PageWalk => "page-walk",
        _ => "hypercall",
    };
}
