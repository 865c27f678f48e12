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
    private static readonly ulong[] Rights = [HekiPermission.Read, HekiPermission.Write, HekiPermission.Execute];
    private readonly byte[] _pages;
    // IMMUTABLE pages, and IMMUTABLE pages lacking READ, WRITE, EXEC: what the one-way rule asks.
    private readonly PageBitmap _immutable;
    private readonly PageBitmap[] _immutableWithout;

    public PermissionMap(ulong memorySize, uint maxRangesPerCall = HekiLimits.MaxRangesPerCall, uint maxRanges = HekiLimits.MaxRanges)
    {
        if (memorySize == 0 || (memorySize & (HekiLimits.Granule - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(memorySize), memorySize, "guest memory must be a non-zero multiple of 4 KiB");
        MemorySize = memorySize;
        MaxRangesPerCall = maxRangesPerCall;
        MaxRanges = maxRanges;
        _pages = new byte[memorySize >> PageShift];
        _immutable = new PageBitmap(memorySize >> PageShift);
        _immutableWithout = [new PageBitmap(memorySize >> PageShift), new PageBitmap(memorySize >> PageShift), new PageBitmap(memorySize >> PageShift)];
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
    /// Entries apply in order (a later entry may name pages of an earlier one); the one-way rule
    /// is checked against the state each entry meets. A refused call costs O(entries²) plus a few
    /// bitmap word tests per entry, never a pass over guest memory; only an accepted call touches
    /// its pages.
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
        for (int j = 0; j < ranges.Length; j++)
        {
            if (!OneWayAllows(ranges, j)) return HekiError.PermissionDenied;
        }
        foreach (var r in ranges)
        {
            byte wanted = (byte)(Named | r.Permissions);
            ulong first = r.GuestPhysicalStart >> PageShift;
            for (ulong page = first; page < first + r.PageCount; page++)
            {
                if (_pages[page] == 0) ProtectedPages++;
                _pages[page] = wanted;
                _immutable.Set(page, (wanted & HekiPermission.Immutable) != 0);
                for (int k = 0; k < Rights.Length; k++)
                {
                    _immutableWithout[k].Set(page, (wanted & HekiPermission.Immutable) != 0 && (wanted & Rights[k]) == 0);
                }
            }
        }
        RangeCount += ranges.Length;
        return HekiError.Success;
    }

    /// <summary>
    /// The one-way rule for entry <paramref name="j"/> against the state it meets: every
    /// IMMUTABLE page it names must stay IMMUTABLE and gain no right. The state of a page is the
    /// latest earlier entry naming it, else the map. Checking against every earlier overlapping
    /// IMMUTABLE entry and every IMMUTABLE page of the map is the same test: an accepted earlier
    /// entry over an IMMUTABLE page is itself IMMUTABLE with no more rights, so the latest state
    /// is always the strictest.
    /// </summary>
    private bool OneWayAllows(HekiRange[] ranges, int j)
    {
        var r = ranges[j];
        bool immutable = (r.Permissions & HekiPermission.Immutable) != 0;
        ulong rights = r.Permissions & (HekiPermission.Read | HekiPermission.Write | HekiPermission.Execute);
        ulong first = r.GuestPhysicalStart >> PageShift;
        if (!immutable && _immutable.Any(first, r.PageCount)) return false;
        for (int k = 0; k < Rights.Length; k++)
        {
            if ((rights & Rights[k]) != 0 && _immutableWithout[k].Any(first, r.PageCount)) return false;
        }
        ulong end = first + r.PageCount;
        for (int i = 0; i < j; i++)
        {
            var e = ranges[i];
            if ((e.Permissions & HekiPermission.Immutable) == 0) continue;
            ulong eFirst = e.GuestPhysicalStart >> PageShift;
            if (eFirst >= end || first >= eFirst + e.PageCount) continue;
            if (!immutable || (rights & ~e.Permissions) != 0) return false;
        }
        return true;
    }

    /// <summary>
    /// Host userspace sets the permissions of <paramref name="pages"/> pages from
    /// <paramref name="gpa"/> directly (no one-way rule: the VMM may relax what the guest locked),
    /// or forgets them when <paramref name="permissions"/> is null (every right back). Returns why
    /// the request is invalid, or null when applied. The caller flushes the TLB.
    /// </summary>
    public string? HostSet(ulong gpa, ulong pages, ulong? permissions)
    {
        if ((gpa & (HekiLimits.Granule - 1)) != 0) return $"gpa 0x{gpa:x} is not 4 KiB aligned";
        if (pages == 0 || pages > (MemorySize >> PageShift) || gpa >= MemorySize || (MemorySize - gpa) >> PageShift < pages)
            return $"{pages} pages from gpa 0x{gpa:x} are not all inside guest memory (0x{MemorySize:x} bytes)";
        if (permissions is { } p && (p & ~HekiPermission.All) != 0) return $"permissions 0x{p:x} has bits outside 0x{HekiPermission.All:x}";
        ulong first = gpa >> PageShift;
        byte wanted = permissions is { } q ? (byte)(Named | q) : (byte)0;
        bool immutable = (wanted & HekiPermission.Immutable) != 0;
        for (ulong page = first; page < first + pages; page++)
        {
            if (_pages[page] == 0 && wanted != 0) ProtectedPages++;
            else if (_pages[page] != 0 && wanted == 0) ProtectedPages--;
            _pages[page] = wanted;
            _immutable.Set(page, immutable);
            for (int k = 0; k < Rights.Length; k++)
            {
                _immutableWithout[k].Set(page, immutable && (wanted & Rights[k]) == 0);
            }
        }
        return null;
    }

    /// <summary>The named pages as runs of consecutive pages with equal permissions, in address order.</summary>
    public IEnumerable<ProtectedRange> NamedRuns()
    {
        ulong n = (ulong)_pages.Length;
        for (ulong page = 0; page < n;)
        {
            byte p = _pages[page];
            if (p == 0) { page++; continue; }
            ulong start = page;
            while (page < n && _pages[page] == p) page++;
            yield return new ProtectedRange(start << PageShift, page - start, (ulong)(p & ~Named));
        }
    }

    /// <summary>VM reset: every page gets all rights back.</summary>
    public void Clear()
    {
        Array.Clear(_pages);
        _immutable.Clear();
        foreach (var b in _immutableWithout) b.Clear();
        RangeCount = 0;
        ProtectedPages = 0;
    }
}
