using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>What an access must do: translate to <see cref="Physical"/>, or raise a fault.</summary>
internal readonly record struct PagingVerdict(bool Ok, ulong Physical, byte Vector, uint ErrorCode)
{
    public static PagingVerdict Translates(ulong physical) => new(true, physical, 0, 0);
    public static PagingVerdict PageFault(uint error) => new(false, 0, 14, error);
    public static PagingVerdict MachineCheck() => new(false, 0, 18, 0);

    public override string ToString() =>
        Ok ? $"ok phys=0x{Physical:x}" : Vector == 14 ? $"#PF err=0x{ErrorCode:x}" : $"vector {Vector}";
}

/// <summary>
/// The expected outcome of one 4-level (IA-32e) page walk, written from the Intel SDM vol. 3
/// rather than from the translator: 4.5 (entry formats and reserved bits), 4.6 (access rights:
/// user-mode addresses, R/W with CR0.WP, SMAP with RFLAGS.AC, SMEP, execute-disable with
/// IA32_EFER.NXE) and 4.7 (the #PF error code). The walk is given as the entries the test wrote,
/// from the PML4E down; the oracle decides by itself where the walk ends (PS bits).
/// </summary>
internal static class PagingOracle
{
    private const ulong P = 1, RW = 2, US = 4, PS = 0x80, XD = 1UL << 63;

    // 4.7: error code bits.
    private const uint ErrP = 1, ErrW = 2, ErrU = 4, ErrRsvd = 8, ErrId = 16;

    /// <param name="entries">PML4E, PDPTE, PDE, PTE (the walk stops early at a leaf or fault).</param>
    /// <param name="maxPhysAddr">MAXPHYADDR as CPUID.80000008H:EAX[7:0] reports it.</param>
    /// <param name="page1G">CPUID.80000001H:EDX.Page1GB.</param>
    public static PagingVerdict Evaluate(IReadOnlyList<ulong> entries, ulong linear, AccessKind kind, PagingContext c,
        int maxPhysAddr, bool page1G, ulong ramSize)
    {
        bool write = kind == AccessKind.Write, fetch = kind == AccessKind.Execute, userAccess = c.Cpl == 3;
        // 4.7: I/D is reported for fetches when SMEP is on, or when PAE paging (here: 4-level) and NXE are.
        uint access = (write ? ErrW : 0) | (userAccess ? ErrU : 0) | (fetch && (c.Smep || c.Nxe) ? ErrId : 0);
        ulong addressBits = ((1UL << maxPhysAddr) - 1) & ~0xFFFUL;

        bool allUser = true, allWritable = true, anyXd = false;
        ulong physical = 0;
        for (int depth = 0; ; depth++)
        {
            int level = 4 - depth;                // 4 = PML4E ... 1 = PTE
            ulong e = entries[depth];
            if ((e & P) == 0) return PagingVerdict.PageFault(access);
            if (IsReserved(e, level, c.Nxe, maxPhysAddr, page1G)) return PagingVerdict.PageFault(access | ErrP | ErrRsvd);
            allUser &= (e & US) != 0;
            allWritable &= (e & RW) != 0;
            anyXd |= (e & XD) != 0;
            bool leaf = level == 1 || (level <= 3 && (e & PS) != 0);
            if (leaf)
            {
                int pageShift = 12 + 9 * (level - 1);
                ulong pageMask = (1UL << pageShift) - 1;
                physical = (e & addressBits & ~pageMask) | (linear & pageMask);
                break;
            }
            ulong nextTable = e & addressBits;
            if (nextTable >= ramSize) return PagingVerdict.MachineCheck();
        }

        if (!Allowed(kind, c, allUser, allWritable, anyXd)) return PagingVerdict.PageFault(access | ErrP);
        if (physical >= ramSize) return PagingVerdict.MachineCheck();
        return PagingVerdict.Translates(physical);
    }

    /// <summary>4.5, tables 4-14 to 4-19: reserved bits of an IA-32e paging entry.</summary>
    public static bool IsReserved(ulong e, int level, bool nxe, int maxPhysAddr, bool page1G)
    {
        ulong aboveMaxPhys = (maxPhysAddr < 52 ? ((1UL << 52) - 1) & ~((1UL << maxPhysAddr) - 1) : 0);
        if ((e & aboveMaxPhys) != 0) return true;             // bits 51:MAXPHYADDR
        if (!nxe && (e & XD) != 0) return true;               // XD is reserved unless IA32_EFER.NXE = 1
        bool ps = (e & PS) != 0;
        return level switch
        {
            4 => ps,                                           // PML4E: PS must be 0
            3 => ps && (!page1G || (e & 0x3FFF_E000UL) != 0),  // 1 GiB page: bits 29:13; PS itself without Page1GB
            2 => ps && (e & 0x1F_E000UL) != 0,                 // 2 MiB page: bits 20:13
            _ => false,
        };
    }

    /// <summary>4.6.1: whether the access rights allow the access to this linear address.</summary>
    public static bool Allowed(AccessKind kind, PagingContext c, bool userModeAddress, bool writableEverywhere, bool executeDisabled)
    {
        bool supervisor = c.Cpl < 3;
        switch (kind)
        {
            case AccessKind.Read:
                if (!supervisor) return userModeAddress;
                // Supervisor reads of user-mode addresses: allowed unless SMAP is on and AC is clear.
                return !userModeAddress || !c.Smap || c.Ac;
            case AccessKind.Write:
                if (!supervisor) return userModeAddress && writableEverywhere;
                if (userModeAddress && c.Smap && !c.Ac) return false;
                return !c.Wp || writableEverywhere;
            default:
                if (c.Nxe && executeDisabled) return false;
                if (!supervisor) return userModeAddress;
                return !(userModeAddress && c.Smep);
        }
    }
}
