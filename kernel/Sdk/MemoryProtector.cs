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
    /// </summary>
    public sealed unsafe class MemoryProtector
    {
        private readonly IHekiCpu _cpu;
        private readonly HekiHostInterface _host;

        public MemoryProtector(IHekiCpu cpu, HekiHostInterface host) { _cpu = cpu; _host = host; }

        public bool Available => _host.Profile == HekiProfile.Heki && _host.Has(HekiCpuid.FeatureProtectMemory);

        /// <summary>Protects <paramref name="count"/> ranges (the array must be in identity- or
        /// otherwise-mapped memory the guest can translate), split into calls the host accepts.
        /// Returns 0 or the first negative error.</summary>
        public long Protect(HekiRange* ranges, int count)
        {
            if (!Available) return HekiError.NotSupported;
            int perCall = _host.MaxRangesPerCall == 0 ? 1 : (int)_host.MaxRangesPerCall;
            for (int i = 0; i < count; i += perCall)
            {
                int n = count - i < perCall ? count - i : perCall;
                long r = Call(ranges + i, n);
                if (r < 0) return r;
            }
            return HekiError.Success;
        }

        /// <summary>One PROTECT_MEMORY call, exactly as given (self-tests use it to probe errors).</summary>
        public long Call(HekiRange* ranges, int count)
        {
            ulong gpa = _cpu.VirtualToPhysical((ulong)ranges);
            if (!_cpu.TryHypercall(_host.HypercallBase + HekiHypercall.ProtectMemory, gpa, (ulong)count, 0, 0, out long r))
                return HekiError.NoSuchHypercall;
            return r;
        }

        public long Protect(ulong gpaStart, ulong bytes, ulong permissions)
        {
            HekiRange range;
            range.GuestPhysicalStart = gpaStart & ~0xFFFUL;
            range.PageCount = (gpaStart + bytes - range.GuestPhysicalStart + 0xFFF) >> 12;
            range.Permissions = permissions;
            return Protect(&range, 1);
        }
    }
}
