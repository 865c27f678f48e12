using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// Absolute permissions per 4 KiB guest-physical page, enforced below the guest's page tables
/// (like EPT). Pages never named keep every right. PROTECT_MEMORY's validation lives here
/// (docs/abi.md section 3): a call is checked completely before anything changes, and IMMUTABLE
/// pages may only lose rights.
/// </summary>
public sealed class PermissionMap
{
    private const byte Named = 0x80;
    private const int PageShift = 12;
    private byte[] _pages;

    public PermissionMap(ulong memorySize, uint maxRangesPerCall = HekiLimits.MaxRangesPerCall, uint maxRanges = HekiLimits.MaxRanges)
    {
        if (memorySize == 0 || (memorySize & (HekiLimits.Granule - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(memorySize), memorySize, "guest memory must be a non-zero multiple of 4 KiB");
        MemorySize = memorySize;
        MaxRangesPerCall = maxRangesPerCall;
        MaxRanges = maxRanges;
        _pages = new byte[memorySize >> PageShift];
    }

    public ulong MemorySize { get; }
    public uint MaxRangesPerCall { get; }
    public uint MaxRanges { get; }

    /// <summary>Ranges accepted so far (counted against <see cref="MaxRanges"/>).</summary>
    public int RangeCount { get; private set; }

    /// <summary>Pages that have been named by some accepted range.</summary>
    public long ProtectedPages { get; private set; }

    /// <summary>True when no page has ever been named (the check can be skipped).</summary>
    public bool IsEmpty => ProtectedPages == 0;

    /// <summary>Whether an access of <paramref name="kind"/> to the page holding <paramref name="physical"/> is allowed.</summary>
    public bool Allows(ulong physical, AccessKind kind)
    {
        ulong page = physical >> PageShift;
        if (page >= (ulong)_pages.Length) return true;
        byte p = _pages[page];
        if (p == 0) return true;
        ulong need = kind switch
        {
            AccessKind.Write => HekiPermission.Write,
            AccessKind.Execute => HekiPermission.Execute,
            _ => HekiPermission.Read,
        };
        return (p & need) != 0;
    }

    /// <summary>The HekiPermission bits of a page, or null when it was never named.</summary>
    public ulong? PermissionsOf(ulong physical)
    {
        ulong page = physical >> PageShift;
        if (page >= (ulong)_pages.Length || _pages[page] == 0) return null;
        return (ulong)(_pages[page] & ~Named);
    }

    /// <summary>
    /// Validates and applies one PROTECT_MEMORY call's ranges atomically. Returns
    /// <see cref="HekiError.Success"/> or the documented negative error; on error nothing changed.
    /// </summary>
    public long Apply(HekiRange[] ranges)
    {
        if (ranges.Length == 0) return HekiError.InvalidArgument;
        if ((uint)ranges.Length > MaxRangesPerCall) return HekiError.TooBig;
        foreach (var r in ranges)
        {
            if ((r.GuestPhysicalStart & (HekiLimits.Granule - 1)) != 0) return HekiError.InvalidArgument;
            if (r.PageCount == 0) return HekiError.InvalidArgument;
            if ((r.Permissions & ~HekiPermission.All) != 0) return HekiError.InvalidArgument;
            if (r.PageCount > (ulong.MaxValue >> PageShift)) return HekiError.InvalidArgument;
            ulong bytes = r.PageCount << PageShift;
            ulong end = r.GuestPhysicalStart + bytes;
            if (end < r.GuestPhysicalStart || end > MemorySize) return HekiError.InvalidArgument;
        }
        if ((ulong)RangeCount + (ulong)ranges.Length > MaxRanges) return HekiError.TooBig;

        // Apply to a copy in order (later entries may name pages of earlier ones), checking the
        // one-way rule against the state each entry meets; commit only if every entry passed.
        var next = (byte[])_pages.Clone();
        long named = ProtectedPages;
        foreach (var r in ranges)
        {
            byte wanted = (byte)(Named | r.Permissions);
            ulong first = r.GuestPhysicalStart >> PageShift;
            for (ulong page = first; page < first + r.PageCount; page++)
            {
                byte current = next[page];
                if ((current & HekiPermission.Immutable) != 0)
                {
                    bool keepsImmutable = (r.Permissions & HekiPermission.Immutable) != 0;
                    bool addsRight = (r.Permissions & ~(ulong)current & (HekiPermission.Read | HekiPermission.Write | HekiPermission.Execute)) != 0;
                    if (!keepsImmutable || addsRight) return HekiError.PermissionDenied;
                }
                if (current == 0) named++;
                next[page] = wanted;
            }
        }
        _pages = next;
        ProtectedPages = named;
        RangeCount += ranges.Length;
        return HekiError.Success;
    }

    /// <summary>VM reset: every page gets all rights back.</summary>
    public void Clear()
    {
        Array.Clear(_pages);
        RangeCount = 0;
        ProtectedPages = 0;
    }
}
