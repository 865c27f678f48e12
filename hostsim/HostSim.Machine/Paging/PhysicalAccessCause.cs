namespace HekiGuest.HostSim.Machine.Paging;

/// <summary>
/// Why a guest-physical page is touched: by the access itself, or by the CPU's page walk for it
/// (reading a paging-structure entry, or writing its accessed/dirty bits). Host-enforced
/// permissions govern all three, as EPT does (docs/abi.md section 4).
/// </summary>
public enum PhysicalAccessCause : byte
{
    /// <summary>The guest's access (data read or write, instruction fetch, implicit supervisor access).</summary>
    Access = 0,
    /// <summary>The page walker reading a paging-structure entry (needs READ).</summary>
    PageWalkRead = 1,
    /// <summary>The page walker setting an accessed or dirty bit in a paging-structure entry (needs WRITE).</summary>
    PageWalkWrite = 2,
}
