// The VTL0 -> VTL1 call ABI of HekiGuest's own secure monitor (vtl1-monitor/, docs/vtl.md
// section 15): function ids, statuses and register use. Constants only, shared by the kernel's
// client (HekiGuest.Sdk.VtlCall) and the monitor.
namespace HekiGuest.Abi
{
    /// <summary>Function ids, passed in RDI with a VTL call.</summary>
    public static class MonitorCall
    {
        /// <summary>Boot-only. The first VTL call after EnableVpVtl; it starts the monitor
        /// (EAX = this id, EBX = VTL0's RAM end in pages). Any later init: AlreadyDone, or
        /// BootOnly after end of boot. Value: the monitor version.</summary>
        public const ulong Init = 1;
        /// <summary>Value: the monitor version; value 2: the denials reported so far.</summary>
        public const ulong Version = 2;
        /// <summary>Boot-only. Ends the boot: every boot-only call is refused afterwards.</summary>
        public const ulong EndOfBoot = 3;
        /// <summary>Value: how many VTL0 violations the monitor has refused.</summary>
        public const ulong DenialCount = 4;
        /// <summary>RSI = VTL0 GPA of a buffer, RDX = its length: the monitor writes
        /// <see cref="MonitorAbi.DescribeSize"/> bytes {u64 version, u64 first GPA of VTL1's
        /// memory, u64 page count} there, only if the whole buffer lies in VTL0 RAM.</summary>
        public const ulong Describe = 5;
        /// <summary>Boot-only. RSI = CR0 bits to pin, RDX = CR4 bits to pin: the monitor saves
        /// VTL0's current values of those bits and intercepts every VTL0 write that changes one
        /// (CrInterceptControl); such a write is refused with #GP(0). A second lock: AlreadyDone;
        /// a bit outside <see cref="MonitorAbi.LockableCr0"/> / <see cref="MonitorAbi.LockableCr4"/>:
        /// InvalidArgument.</summary>
        public const ulong LockRegisters = 6;
        /// <summary>Boot-only, once. RSI = VTL0 GPA of a region table, RDX = its entry count
        /// (1..<see cref="MonitorMemory.MaxRegions"/>; layout <see cref="MonitorMemory"/>). The
        /// monitor checks it, presets the accessed/dirty bits of every entry in VTL0's page
        /// tables (walked from VTL0's CR3) and gives every VTL0 page its mask: text R+X, read-only
        /// data R, page tables and the table pool R, kept regions unchanged, the rest of VTL0 RAM
        /// R+W, never X. Value: page-table pages found by the walk; value 2: pages protected.</summary>
        public const ulong ProtectMemory = 20;
        /// <summary>After protect memory. RSI = VA, RDX = GPA, R8 = leaf flags
        /// (<see cref="MonitorMemory.MappingFlags"/>, Present required): maps or remaps one 4 KiB
        /// page in VTL0's current page tables (new tables from the pool) and flushes VTL0's TLB.
        /// Denied: W+X, a GPA that is a page table, the pool, a kept region or the monitor's, or
        /// a VA that maps text, read-only data, a page table or a kept region now. Value: the old
        /// leaf entry.</summary>
        public const ulong MapPage = 21;
        /// <summary>After protect memory. RSI = VA: removes its 4 KiB leaf (InvalidArgument when it
        /// is not mapped), with the same VA rule as <see cref="MapPage"/>. Value: the old entry.</summary>
        public const ulong UnmapPage = 22;

        // Privileged writes VTL1 performs on VTL0's state once the sealed section is handed over
        // (docs/vtl.md section 15, "Privileged writes"): each is checked against the policy the
        // kernel sealed at boot. Not performed: Denied (policy) or InvalidArgument (a value the
        // CPU or the host refuses), and #GP(0) is injected into VTL0 at the call's return.
        /// <summary>RSI = the new CR0 (pinned bits keep their locked values).</summary>
        public const ulong WriteCr0 = 7;
        /// <summary>RSI = the new CR3 (its page-table root must be the one registered at hand-over).</summary>
        public const ulong WriteCr3 = 8;
        /// <summary>RSI = the new CR4 (pinned bits keep their locked values).</summary>
        public const ulong WriteCr4 = 9;
        /// <summary>RSI = MSR index, RDX = value (the MSR allow-list).</summary>
        public const ulong WriteMsr = 10;
        /// <summary>RSI = XCR index (0 only), RDX = value (x87|SSE, |AVX when CPUID offers it).</summary>
        public const ulong SetXcr = 11;
        /// <summary>RSI = base, RDX = limit: LGDT (after end of boot only the registered table).</summary>
        public const ulong LoadGdt = 12;
        /// <summary>RSI = base, RDX = limit: LIDT (after end of boot only the registered table).</summary>
        public const ulong LoadIdt = 13;
        /// <summary>RSI = selector: LTR (after end of boot only the registered selector).</summary>
        public const ulong LoadTr = 14;
        /// <summary>RSI = selector: LLDT (after end of boot only the registered selector).</summary>
        public const ulong LoadLdt = 15;
        /// <summary>Boot-only. RSI = GPA of the sealed section, RDX = its length, R8 = GPA of a
        /// <see cref="MonitorAbi.HandOverSize"/>-byte block {32-byte SHA-256 the build wrote into
        /// the image; u64 GPA of the routine table; u64 routine count}. VTL1 hashes the section,
        /// compares, records the routines, registers VTL0's CR3, descriptor tables and syscall
        /// MSRs, and makes the section's pages read-only and non-executable for VTL0.</summary>
        public const ulong HandOverSealed = 16;
    }

    /// <summary>Statuses, returned in RAX.</summary>
    public static class MonitorStatus
    {
        public const long Success = 0;
        public const long UnknownCall = 1;
        /// <summary>A boot-only call after end of boot.</summary>
        public const long BootOnly = 2;
        public const long InvalidArgument = 3;
        public const long AlreadyDone = 4;
        /// <summary>The policy refused (the monitor also prints one "vtl1: denied" line).</summary>
        public const long Denied = 5;
        /// <summary>Client side only: no monitor runs (no VSM host, or it was not started).</summary>
        public const long NoMonitor = -1;
    }

    /// <summary>Protect memory's region table: entries of <see cref="EntrySize"/> bytes
    /// {u64 first GPA; u64 end GPA (exclusive); u32 kind; u32 VTL0 mask asked (HvMapGpa bits)},
    /// page-aligned, inside VTL0 RAM, not overlapping each other or the monitor.</summary>
    public static class MonitorMemory
    {
        public const int EntrySize = 24, KindOffset = 16, MaskOffset = 20;
        public const int MaxRegions = 64;
        /// <summary>Kernel code: mask R + kernel execute.</summary>
        public const uint Text = 1;
        /// <summary>Read-only data: mask R.</summary>
        public const uint ReadOnly = 2;
        /// <summary>Writable data: mask R+W (what every unnamed VTL0 page gets too).</summary>
        public const uint Data = 3;
        /// <summary>Pages of VTL0's page tables: mask R.</summary>
        public const uint PageTables = 4;
        /// <summary>Pages donated for new page tables: mask R, zeroed, VTL1 links them in.</summary>
        public const uint TablePool = 5;
        /// <summary>Left with the mask they have (mask asked 0): the sealed section, which its
        /// hand-over owns.</summary>
        public const uint Keep = 6;
        /// <summary>Leaf flags the mapping call accepts: present, writable, user, write-through,
        /// cache-disable, accessed, dirty, no-execute. Global, PAT, the available and
        /// protection-key bits are refused (the TLB flush by a CR3 reload must reach them).</summary>
        public const ulong MappingFlags = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | (1UL << 63);
    }

    public static class MonitorAbi
    {
        /// <summary>1.0: major in bits 31:16, minor in bits 15:0.</summary>
        public const ulong Version = 0x00010000;
        public const ulong DescribeSize = 24;
        /// <summary>The hand-over block: SHA-256 (32 bytes), routine table GPA, routine count.</summary>
        public const ulong HandOverSize = 48;
        /// <summary>At most this many sealed routines, and the section at most this long.</summary>
        public const ulong MaxSealedRoutines = 16, MaxSealedLength = 1UL << 20;
        /// <summary>CR0 bits a lock may pin: PE, WP, PG.</summary>
        public const ulong LockableCr0 = (1UL << 0) | (1UL << 16) | (1UL << 31);
        /// <summary>CR4 bits a lock may pin: everything below bit 32 but MCE, PGE, PCE and VMXE
        /// (LVBS's mask: bits the kernel toggles in normal operation).</summary>
        public const ulong LockableCr4 = 0xFFFFFFFFUL & ~((1UL << 6) | (1UL << 7) | (1UL << 8) | (1UL << 13));
        /// <summary>The first 32-bit entry of VTL1 (EnableVpVtl's context): flat 4 GiB segments.</summary>
        public const ushort BootCodeSelector = 0x08, BootDataSelector = 0x10;
        public const ushort BootCodeAttributes = 0xC09B, BootDataAttributes = 0xC093;
    }
}
