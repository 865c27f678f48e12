using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// Asks the host to enforce absolute permissions on guest-physical page ranges. The host's map
    /// governs every access made for the guest (docs/abi.md section 4): the guest's own accesses,
    /// the CPU's page walk (READ to read an entry, WRITE to set its accessed/dirty bits) and the
    /// host's reads of the range array. So: the array passed here must lie on readable pages;
    /// and before making a page that holds paging structures read-only, set the accessed bit in
    /// every entry it will use (all levels) and the dirty bit in every leaf entry mapping a
    /// writable page, or the first walk that needs to set one faults (#PF with bit 31).
    ///
    /// A request larger than the host's per-call limit is split into several PROTECT_MEMORY calls.
    /// Every range of the request is checked before the first call (alignment, page count,
    /// overflow, permission bits, the host's total limit, the array's translation), so a malformed
    /// range fails the request with nothing applied. Only a refusal the SDK cannot foresee (a
    /// range past the end of guest memory, the one-way rule) can stop a later call; the
    /// <c>applied</c> count then says how many leading ranges the host accepted.
    /// </summary>
    public sealed unsafe class MemoryProtector
    {
        /// <summary>Most physical runs one <see cref="ProtectVirtual"/> call may produce.</summary>
        public const int MaxVirtualRuns = 64;

        private const ulong PageMask = HekiLimits.Granule - 1;
        private readonly IHekiCpu _cpu;
        private readonly HekiHostInterface _host;

        public MemoryProtector(IHekiCpu cpu, HekiHostInterface host) { _cpu = cpu; _host = host; }

        public bool Available => _host.Profile == HekiProfile.Heki && _host.Has(HekiCpuid.FeatureProtectMemory);

        /// <summary>Ranges the host accepted through this protector (the host counts them against
        /// its total limit, CPUID (base+2).EBX).</summary>
        public int RangesAccepted;

        public long Protect(HekiRange* ranges, int count) => Protect(ranges, count, out _);

        /// <summary>Protects <paramref name="count"/> ranges (the array must be in memory the guest
        /// can translate, each call's part physically contiguous), split into calls the host
        /// accepts. Returns 0, or the first negative error: the SDK's own check (nothing applied,
        /// no hypercall made) or the host's refusal of a call, after which
        /// <paramref name="applied"/> leading ranges (whole earlier calls) stay in force.</summary>
        public long Protect(HekiRange* ranges, int count, out int applied)
        {
            applied = 0;
            if (!Available) return HekiError.NotSupported;
            long check = Validate(ranges, count);
            if (check < 0) return check;
            int perCall = _host.MaxRangesPerCall == 0 ? 1 : (int)_host.MaxRangesPerCall;
            for (int i = 0; i < count; i += perCall)
                if (!TryArrayAddress(ranges + i, Batch(count, i, perCall), out _)) return HekiError.BadAddress;
            for (int i = 0; i < count; i += perCall)
            {
                int n = Batch(count, i, perCall);
                long r = Call(ranges + i, n);
                if (r < 0) return r;
                applied += n;
            }
            return HekiError.Success;
        }

        /// <summary>Protects the pages of a virtual range with <paramref name="permissions"/>,
        /// whatever physical pages back them (<see cref="GuestPhysicalRuns"/>): an unmapped page is
        /// <see cref="HekiError.BadAddress"/>, more than <see cref="MaxVirtualRuns"/> physical runs
        /// <see cref="HekiError.TooBig"/>, both with nothing applied.</summary>
        public long ProtectVirtual(ulong virtualStart, ulong bytes, ulong permissions, out int applied)
        {
            applied = 0;
            if (!Available) return HekiError.NotSupported;
            if (bytes == 0) return HekiError.InvalidArgument;
            HekiRange* runs = stackalloc HekiRange[MaxVirtualRuns];
            int n = 0;
            long r = GuestPhysicalRuns.Append(_cpu, virtualStart, bytes, permissions, runs, MaxVirtualRuns, ref n);
            if (r < 0) return r;
            return Protect(runs, n, out applied);
        }

        /// <summary>The checks the host makes on a whole request, before any call: count, each
        /// entry's alignment, page count, overflow and permission bits, and the total limit.</summary>
        public long Validate(HekiRange* ranges, int count)
        {
            if (count <= 0) return HekiError.InvalidArgument;
            for (int i = 0; i < count; i++)
            {
                HekiRange r = ranges[i];
                if ((r.GuestPhysicalStart & PageMask) != 0 || r.PageCount == 0) return HekiError.InvalidArgument;
                if ((r.Permissions & ~HekiPermission.All) != 0) return HekiError.InvalidArgument;
                if (r.PageCount > (ulong.MaxValue >> 12)) return HekiError.InvalidArgument;
                if (r.GuestPhysicalStart + (r.PageCount << 12) < r.GuestPhysicalStart) return HekiError.InvalidArgument;
            }
            if (_host.MaxRanges != 0 && (ulong)RangesAccepted + (ulong)count > _host.MaxRanges) return HekiError.TooBig;
            return HekiError.Success;
        }

        /// <summary>One PROTECT_MEMORY call, exactly as given (self-tests use it to probe errors).
        /// The array's pages must translate to contiguous physical pages, else -14 and no call.</summary>
        public long Call(HekiRange* ranges, int count)
        {
            if (!TryArrayAddress(ranges, count, out ulong gpa)) return HekiError.BadAddress;
            if (!_cpu.TryHypercall(_host.HypercallBase + HekiHypercall.ProtectMemory, gpa, (ulong)count, 0, 0, out long r))
                return HekiError.NoSuchHypercall;
            if (r >= 0) RangesAccepted += count;
            return r;
        }

        public long Protect(ulong gpaStart, ulong bytes, ulong permissions)
        {
            HekiRange range;
            range.GuestPhysicalStart = gpaStart & ~PageMask;
            range.PageCount = (gpaStart + bytes - range.GuestPhysicalStart + PageMask) >> 12;
            range.Permissions = permissions;
            return Protect(&range, 1);
        }

        private static int Batch(int count, int index, int perCall) => count - index < perCall ? count - index : perCall;

        /// <summary>The guest-physical address of the array, when every page it touches is mapped
        /// and they are physically contiguous (the host reads it as one guest-physical buffer).</summary>
        private bool TryArrayAddress(HekiRange* ranges, int count, out ulong gpa)
        {
            ulong va = (ulong)ranges;
            if (!_cpu.TryVirtualToPhysical(va, out gpa)) return false;
            if (count <= 0) return true;
            ulong last = va + (ulong)count * (ulong)sizeof(HekiRange) - 1;
            for (ulong page = (va & ~PageMask) + HekiLimits.Granule; page <= last && page > va; page += HekiLimits.Granule)
                if (!_cpu.TryVirtualToPhysical(page, out ulong p) || p != gpa + (page - va)) return false;
            return true;
        }
    }
}
