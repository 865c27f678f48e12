using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Paging;

/// <summary>
/// The guest's own paging: identity when CR0.PG is clear, else 4-level (long mode), PAE or 32-bit
/// walks with the architectural permission rules: U/S, R/W with CR0.WP, NX with EFER.NXE, SMEP,
/// SMAP (RFLAGS.AC), reserved bits, and accessed/dirty updates. A physical address outside RAM
/// is a machine check (#MC): this machine has no MMIO. Host-enforced permissions (the EPT-like
/// layer, <see cref="IPhysicalAccessCheck"/>) govern every page a guest access touches: each
/// paging-structure entry the walk reads (READ), the final page (the access's own right) and
/// each entry whose accessed/dirty bits the walk sets (WRITE); the A/D bits are written only
/// after all of that passed.
/// </summary>
public sealed class PagingTranslator : IAddressTranslator
{
    private const ulong Present = 1, Writable = 2, User = 4, Accessed = 0x20, Dirty = 0x40, Large = 0x80;
    private const ulong NoExecute = 1UL << 63;
    private ulong _addressMask = ((1UL << 39) - 1) & ~0xFFFUL;
    private ulong _reservedHigh = 0x000F_FFFF_FFFF_F000UL & ~(((1UL << 39) - 1) & ~0xFFFUL);   // bits MAXPHYADDR..51
    private bool _gigabytePages;

    private readonly PhysicalMemory _memory;
    private Cpu.Cpu? _cpu;

    public PagingTranslator(PhysicalMemory memory) => _memory = memory;

    /// <summary>Checks run on the final physical address (host-enforced permissions); may be null.</summary>
    public IPhysicalAccessCheck? PhysicalCheck { get; set; }

    public long Walks { get; private set; }

    /// <summary>Binds the translator to its CPU and takes MAXPHYADDR and 1 GiB-page support
    /// from what that CPU's CPUID reports, so the walk agrees with what the guest was told.</summary>
    public void Attach(Cpu.Cpu cpu)
    {
        _cpu = cpu;
        var ext = cpu.Cpuid.Query(cpu, 0x80000000, 0);
        int maxPhys = 36;
        if (ext.Eax >= 0x80000008) maxPhys = (int)(cpu.Cpuid.Query(cpu, 0x80000008, 0).Eax & 0xFF);
        if (maxPhys < 32 || maxPhys > 52) maxPhys = 36;
        _addressMask = ((1UL << maxPhys) - 1) & ~0xFFFUL;
        _reservedHigh = 0x000F_FFFF_FFFF_F000UL & ~_addressMask;
        _gigabytePages = ext.Eax >= 0x80000001 && (cpu.Cpuid.Query(cpu, 0x80000001, 0).Edx & (1u << 26)) != 0;
    }

    public bool TryTranslate(ulong linear, AccessKind kind, int size, int cpl, out ulong physical, out GuestFault fault)
    {
        var cpu = _cpu ?? throw new InvalidOperationException("translator not attached to a CPU");
        return Locate(cpu, linear, kind, size, cpl, guestAccess: true, out physical, out fault);
    }

    /// <summary>
    /// Translates for the host (crash reports, traces, debuggers): the guest's page walk, but
    /// without its access-rights checks (U/S, SMAP, NX, WP), without setting accessed bits and
    /// without the host permission check, so looking at the guest shows whatever is mapped, never
    /// changes it and produces no denial events.
    /// </summary>
    public bool TryPeek(ulong linear, out ulong physical)
    {
        var cpu = _cpu ?? throw new InvalidOperationException("translator not attached to a CPU");
        return Locate(cpu, linear, AccessKind.Read, 1, 0, guestAccess: false, out physical, out _) && physical < _memory.Size;
    }

    /// <summary>Linear to physical as the guest's paging says: the canonical-address check in long
    /// mode, identity with paging off, else the page walk. For a guest access
    /// (<paramref name="guestAccess"/>) every page touched is checked (<see cref="PhysicalCheck"/>)
    /// and the walk's accessed/dirty updates are written only when all of it is allowed.</summary>
    private bool Locate(Cpu.Cpu cpu, ulong linear, AccessKind kind, int size, int cpl, bool guestAccess, out ulong physical, out GuestFault fault)
    {
        fault = default;
        physical = 0;
        // In long mode a non-canonical linear address is a #GP(0) before any page walk.
        if ((cpu.Efer & 0x400) != 0 && (ulong)((long)(linear << 16) >> 16) != linear)
        {
            fault = GuestFault.GP(0);
            return false;
        }
        if ((cpu.Cr0 & 0x8000_0000) == 0)
        {
            physical = linear & 0xFFFF_FFFF;
            return !guestAccess || CheckFinal(cpu, linear, physical, kind, size, cpl, out fault);
        }
        return Walk(cpu, linear, kind, size, cpl, guestAccess, out physical, out fault);
    }

    /// <summary>The access's own page: inside RAM (else #MC) and allowed by the host check.</summary>
    private bool CheckFinal(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind kind, int size, int cpl, out GuestFault fault)
    {
        if (physical + (ulong)size > _memory.Size || physical + (ulong)size < physical)
        {
            fault = new GuestFault(18, false, 0, 0);
            return false;
        }
        if (PhysicalCheck is { } check && !check.Allow(cpu, linear, physical, kind, size, cpl, PhysicalAccessCause.Access, out fault))
        {
            return false;
        }
        fault = default;
        return true;
    }

    private unsafe ulong ReadEntry(ulong address) => *(ulong*)(_memory.Base + address);

    private unsafe void WriteEntry(ulong address, ulong value) => *(ulong*)(_memory.Base + address) = value;

    private bool Walk(Cpu.Cpu cpu, ulong linear, AccessKind kind, int size, int cpl, bool guestAccess, out ulong physical, out GuestFault fault)
    {
        var check = guestAccess ? PhysicalCheck : null;
        Walks++;
        physical = 0;
        bool longMode = (cpu.Efer & 0x400) != 0;
        bool pae = (cpu.Cr4 & 0x20) != 0;
        bool nxe = (cpu.Efer & 0x800) != 0;
        bool user = cpl == 3;
        uint baseError = (kind == AccessKind.Write ? PageFaultError.Write : 0) | (user ? PageFaultError.User : 0)
            | (kind == AccessKind.Execute && (nxe || (cpu.Cr4 & (1UL << 20)) != 0) ? PageFaultError.InstructionFetch : 0);

        int levels = longMode ? 4 : pae ? 3 : 2;
        int entryBytes = levels == 2 ? 4 : 8;
        ulong table = levels == 3 ? cpu.Cr3 & 0xFFFF_FFE0 : cpu.Cr3 & _addressMask;
        bool allUser = true, allWritable = true, anyNx = false;
        Span<ulong> entryAddress = stackalloc ulong[4];
        Span<ulong> entries = stackalloc ulong[4];
        int depth = 0;
        ulong pageSize = 4096;
        for (int level = levels - 1; level >= 0; level--)
        {
            int shift = levels == 2 ? 12 + 10 * level : 12 + 9 * level;
            ulong index = levels == 2 ? (linear >> shift) & 0x3FF : (linear >> shift) & 0x1FF;
            if (levels == 3 && level == 2) index = (linear >> 30) & 3;
            ulong ea = table + index * (ulong)entryBytes;
            if (ea + (ulong)entryBytes > _memory.Size)
            {
                fault = new GuestFault(18, false, 0, 0);
                return false;
            }
            // the walk reads the entry: its page needs READ (EPT checks paging-structure reads too)
            if (check is not null && !check.Allow(cpu, linear, ea, kind, entryBytes, cpl, PhysicalAccessCause.PageWalkRead, out fault))
            {
                return false;
            }
            ulong e = entryBytes == 4 ? ReadEntry(ea) & 0xFFFF_FFFF : ReadEntry(ea);
            if ((e & Present) == 0)
            {
                fault = GuestFault.PF(linear, baseError);
                return false;
            }
            bool paePdpte = levels == 3 && level == 2;
            bool reserved = entryBytes == 8 && ((e & _reservedHigh) != 0 || (!nxe && (e & NoExecute) != 0));
            if (paePdpte) reserved |= (e & 0x1E6) != 0;
            if (level == 3 && (e & Large) != 0) reserved = true;
            if (level == 2 && longMode && (e & Large) != 0 && (!_gigabytePages || (e & 0x3FFF_E000) != 0)) reserved = true;
            if (level == 1 && entryBytes == 8 && (e & Large) != 0 && (e & 0x1F_E000) != 0) reserved = true;
            if (reserved)
            {
                fault = GuestFault.PF(linear, baseError | PageFaultError.Present | PageFaultError.ReservedBit);
                return false;
            }
            entryAddress[depth] = ea;
            entries[depth] = e;
            depth++;
            if (!paePdpte)
            {
                allUser &= (e & User) != 0;
                allWritable &= (e & Writable) != 0;
                anyNx |= entryBytes == 8 && (e & NoExecute) != 0;
            }
            bool leaf = level == 0 || (level <= 2 && !paePdpte && (e & Large) != 0 && (level < 2 || longMode));
            if (levels == 2 && level == 1 && (e & Large) != 0 && (cpu.Cr4 & 0x10) != 0) leaf = true;
            if (leaf)
            {
                pageSize = 1UL << shift;
                ulong frame = levels == 2 && level == 1 ? e & 0xFFC0_0000 : e & _addressMask & ~(pageSize - 1);
                physical = frame | (linear & (pageSize - 1));
                break;
            }
            table = entryBytes == 4 ? e & 0xFFFF_F000 : e & _addressMask;
        }

        bool wp = (cpu.Cr0 & (1UL << 16)) != 0;
        bool smep = (cpu.Cr4 & (1UL << 20)) != 0;
        bool smap = (cpu.Cr4 & (1UL << 21)) != 0;
        bool ac = (cpu.Rflags & (1UL << 18)) != 0;
        bool denied = kind switch
        {
            AccessKind.Write => user ? !(allUser && allWritable) : (!allWritable && wp) || (smap && allUser && !ac),
            AccessKind.Read => user ? !allUser : smap && allUser && !ac,
            _ => (nxe && anyNx) || (user ? !allUser : smep && allUser),
        };
        if (!guestAccess)
        {
            // a host peek wants the mapping, not the guest's access rights (it must show user
            // code under SMAP, execute-only text, and so on)
            fault = default;
            return true;
        }
        if (denied)
        {
            fault = GuestFault.PF(linear, baseError | PageFaultError.Present);
            return false;
        }
        if (!CheckFinal(cpu, linear, physical, kind, size, cpl, out fault))
        {
            return false;
        }
        // Accessed/dirty updates: every entry page to be written needs WRITE, and all of them are
        // checked before any is written, so a refused access leaves the tables as they were.
        Span<ulong> updated = stackalloc ulong[4];
        for (int i = 0; i < depth; i++)
        {
            // PAE PDPTEs have no accessed bit (bit 5 is reserved there): the CPU never sets it
            ulong e = levels == 3 && i == 0 ? entries[i] : entries[i] | Accessed;
            if (i == depth - 1 && kind == AccessKind.Write) e |= Dirty;
            updated[i] = e;
            if (e != entries[i] && check is not null
                && !check.Allow(cpu, linear, entryAddress[i], kind, entryBytes, cpl, PhysicalAccessCause.PageWalkWrite, out fault))
            {
                return false;
            }
        }
        for (int i = 0; i < depth; i++)
        {
            if (updated[i] == entries[i]) continue;
            if (entryBytes == 4) WriteEntry32(entryAddress[i], (uint)updated[i]); else WriteEntry(entryAddress[i], updated[i]);
            // an entry may share its page with code the CPU has decoded: keep the decode cache coherent
            cpu.NotifyPhysicalWrite(entryAddress[i]);
        }
        fault = default;
        return true;
    }

    private unsafe void WriteEntry32(ulong address, uint value) => *(uint*)(_memory.Base + address) = value;
}
