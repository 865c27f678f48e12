// The HekiGuest host interface, version 1: every number and layout of docs/abi.md, in ONE file
// compiled into the guest SDK (against the kernel's corelib), the VTL1 monitor and hostsim (as a
// linked source). Constants and plain structs only, so it builds in both worlds.
namespace HekiGuest.Abi
{
    /// <summary>Discovery through a hypervisor CPUID range (scanned 0x40000000..0x4000FF00).</summary>
    public static class HekiCpuid
    {
        public const uint ScanFirst = 0x40000000;
        public const uint ScanLast = 0x4000FF00;
        public const uint ScanStep = 0x100;
        /// <summary>Where hostsim places the HekiGuest range (KVM's own stays at 0x40000000).</summary>
        public const uint DefaultBase = 0x40000100;

        // base + 0: EAX = highest leaf of the range, EBX:ECX:EDX = "HEKIGUESTABI".
        public const uint SignatureEbx = 0x494B4548;   // "HEKI"
        public const uint SignatureEcx = 0x53455547;   // "GUES"
        public const uint SignatureEdx = 0x49424154;   // "TABI"
        public const uint LeafSignature = 0;
        // base + 1: EAX = ABI version, EBX = feature bits, ECX = MSR base, EDX = hypercall base.
        public const uint LeafFeatures = 1;
        // base + 2: EAX = max ranges per PROTECT_MEMORY call, EBX = max protected ranges,
        //           ECX = protection granule (bytes), EDX = 0.
        public const uint LeafLimits = 2;
        public const uint HighestLeafOffset = 2;

        /// <summary>The version this SDK was built for, as (base+1).EAX encodes it: bits 15:0 the
        /// major, bits 31:16 the minor (version 1 = 1.0). Forward-compatibility rule (docs/abi.md
        /// section 1): a guest accepts any minor of the major it knows (a minor only adds feature
        /// bits, leaves and hypercalls, which a guest uses only when their feature bit is set) and
        /// refuses any other major.</summary>
        public const uint AbiVersion = 1;
        public const uint AbiMajor = 1;
        public const uint AbiMinor = 0;
        public const uint VersionMajorMask = 0xFFFF;
        public const int VersionMinorShift = 16;

        public const uint FeatureCrPinMsrs = 1u << 0;
        public const uint FeatureLockCrHypercall = 1u << 1;
        public const uint FeatureProtectMemory = 1u << 2;
        public const uint FeatureDenialEvents = 1u << 3;
    }

    /// <summary>CR-pinning MSRs, as offsets from the MSR base announced by CPUID (base+1).ECX.</summary>
    public static class HekiMsr
    {
        /// <summary>The MSR base hostsim announces: "HEK" in the high bytes, outside every
        /// architectural, KVM (0x4b564dxx) and Hyper-V (0x400000xx) range.</summary>
        public const uint DefaultBase = 0x48454B00;

        public const uint Cr0PinAllowed = 0;   // read-only: which CR0 bits may be pinned
        public const uint Cr4PinAllowed = 1;   // read-only: which CR4 bits may be pinned
        public const uint Cr0PinnedLow = 2;    // bits that must stay 0
        public const uint Cr0PinnedHigh = 3;   // bits that must stay 1
        public const uint Cr4PinnedLow = 4;
        public const uint Cr4PinnedHigh = 5;
        public const uint Count = 6;
    }

    /// <summary>The control-register bits the host lets a guest pin.</summary>
    public static class HekiCrBits
    {
        public const ulong Cr0Wp = 1UL << 16;
        public const ulong Cr4Umip = 1UL << 11;
        public const ulong Cr4Smep = 1UL << 20;
        public const ulong Cr4Smap = 1UL << 21;
        public const ulong Cr0Allowed = Cr0Wp;
        public const ulong Cr4Allowed = Cr4Smep | Cr4Smap | Cr4Umip;
    }

    /// <summary>Hypercalls: VMCALL or VMMCALL with RAX = number, arguments in RBX, RCX, RDX, RSI,
    /// result in RAX (0 or a positive value on success, a negative error otherwise).</summary>
    public static class HekiHypercall
    {
        /// <summary>The hypercall base hostsim announces ("HE" in the high half), far from KVM's 1..17.</summary>
        public const uint DefaultBase = 0x48450000;

        public const uint Version = 0;         // () -> ABI version
        public const uint LockCr = 1;          // (cr: 0|4, bits, flags) -> 0
        public const uint ProtectMemory = 2;   // (gpa of HekiRange[], count, flags=0) -> 0

        public const ulong LockCrFlagVersion = 1UL << 0;   // with cr = bits = 0: returns the version
    }

    /// <summary>Negative error codes returned in RAX (KVM's errno values).</summary>
    public static class HekiError
    {
        public const long Success = 0;
        public const long PermissionDenied = -1;     // EPERM: CPL > 0, or relaxing an immutable range
        public const long TooBig = -7;               // E2BIG: too many ranges in one call or in total
        public const long BadAddress = -14;          // EFAULT: the range array is outside guest memory
        public const long InvalidArgument = -22;     // EINVAL: alignment, overflow, unknown flags or bits
        public const long NotSupported = -95;        // EOPNOTSUPP: feature not offered by this profile
        public const long NoSuchHypercall = -1000;   // KVM_ENOSYS
    }

    /// <summary>Absolute permissions of a protected range (PROTECT_MEMORY).</summary>
    public static class HekiPermission
    {
        public const ulong Read = 1UL << 0;
        public const ulong Write = 1UL << 1;
        public const ulong Execute = 1UL << 2;
        public const ulong Immutable = 1UL << 3;
        public const ulong All = Read | Write | Execute | Immutable;
    }

    /// <summary>One entry of the PROTECT_MEMORY array (24 bytes, 8-byte aligned).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct HekiRange
    {
        public ulong GuestPhysicalStart;   // 4 KiB aligned
        public ulong PageCount;            // > 0
        public ulong Permissions;          // HekiPermission bits
    }

    /// <summary>Limits hostsim announces in CPUID (base+2).</summary>
    public static class HekiLimits
    {
        public const uint MaxRangesPerCall = 64;
        public const uint MaxRanges = 4096;
        public const uint Granule = 4096;
    }

    /// <summary>A host-enforced memory denial reaches the guest as a #PF whose error code has
    /// this bit (architecturally reserved) set in addition to P, W, U and I/D.</summary>
    public static class HekiDenial
    {
        public const uint PageFaultErrorBit = 1u << 31;
    }

    /// <summary>Historical numberings, used only when the guest is told to (never autodetected):
    /// the June 2020 paravirtual CR pinning series and Heki RFC v3.</summary>
    public static class HekiCompat
    {
        public const uint KvmCpuidBase = 0x40000000;
        public const uint KvmSignatureEbx = 0x4B4D564B;   // "KVMK"
        public const uint KvmSignatureEcx = 0x564B4D56;   // "VMKV"
        public const uint KvmSignatureEdx = 0x0000004D;   // "M\0\0\0"
        public const uint KvmCpuidFeatures = 0x40000001;
        public const int CrPin2020FeatureBit = 15;
        public const uint CrPin2020Cr0PinAllowed = 0x4B564D08;
        public const uint CrPin2020Cr4PinAllowed = 0x4B564D09;
        public const uint CrPin2020Cr0PinnedLow = 0x4B564D0A;
        public const uint CrPin2020Cr0PinnedHigh = 0x4B564D0B;
        public const uint CrPin2020Cr4PinnedLow = 0x4B564D0C;
        public const uint CrPin2020Cr4PinnedHigh = 0x4B564D0D;
        public const uint HekiV3LockCrUpdate = 13;
        public const ulong HekiV3FlagVersion = 1UL << 0;
        public const long HekiV3Version = 1;
    }

    /// <summary>The profile names a command line may select (heki.profile=...).</summary>
    public static class HekiProfileNames
    {
        public const string Default = "heki";
        public const string CrPin2020 = "cr-pin-2020";
        public const string HekiV3 = "heki-v3";
        public const string Off = "off";
    }
}
