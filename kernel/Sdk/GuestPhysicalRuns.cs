using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// Turns a virtual range of the guest into the guest-physical page ranges the host protects:
    /// walks it page by page through <see cref="IHekiCpu.TryVirtualToPhysical"/> and coalesces
    /// pages that are physically contiguous into one <see cref="HekiRange"/>. For guests that are
    /// not identity-mapped; an identity-mapped range becomes a single entry.
    /// </summary>
    public static unsafe class GuestPhysicalRuns
    {
        private const ulong PageMask = HekiLimits.Granule - 1;

        /// <summary>Appends the runs of [<paramref name="virtualStart"/>, + <paramref name="bytes"/>)
        /// (widened to whole pages) to <paramref name="ranges"/> at <paramref name="count"/>. Only
        /// the entries appended by this call are coalesced with each other. Returns 0 (nothing
        /// appended when <paramref name="bytes"/> is 0), <see cref="HekiError.InvalidArgument"/>
        /// when the range wraps or has unknown permission bits, <see cref="HekiError.BadAddress"/>
        /// when a page is not mapped, <see cref="HekiError.TooBig"/> when the runs do not fit in
        /// <paramref name="capacity"/>; on an error <paramref name="count"/> is unchanged.</summary>
        public static long Append(IHekiCpu cpu, ulong virtualStart, ulong bytes, ulong permissions,
            HekiRange* ranges, int capacity, ref int count)
        {
            if (bytes == 0) return HekiError.Success;
            if ((permissions & ~HekiPermission.All) != 0) return HekiError.InvalidArgument;
            ulong last = virtualStart + (bytes - 1);
            if (last < virtualStart) return HekiError.InvalidArgument;
            ulong firstPage = virtualStart & ~PageMask, lastPage = last & ~PageMask;
            int n = count, first = count;
            for (ulong page = firstPage; ; page += HekiLimits.Granule)
            {
                if (!cpu.TryVirtualToPhysical(page, out ulong physical)) return HekiError.BadAddress;
                physical &= ~PageMask;
                if (n > first && ranges[n - 1].GuestPhysicalStart + ranges[n - 1].PageCount * HekiLimits.Granule == physical)
                    ranges[n - 1].PageCount++;
                else
                {
                    if (n >= capacity) return HekiError.TooBig;
                    ranges[n].GuestPhysicalStart = physical;
                    ranges[n].PageCount = 1;
                    ranges[n].Permissions = permissions;
                    n++;
                }
                if (page == lastPage) break;
            }
            count = n;
            return HekiError.Success;
        }
    }
}
