namespace HekiGuest.HostSim.Heki.Tests.Support;

/// <summary>
/// The numbers of docs/abi.md, written down here from the document itself rather than taken
/// from kernel/Sdk/HekiAbi.cs, so that a wrong constant there makes these tests fail.
/// </summary>
internal static class AbiDoc
{
    // Section 1: hostsim's bases and limits.
    public const uint CpuidBase = 0x40000100;
    public const uint MsrBase = 0x48454B00;
    public const uint HypercallBase = 0x48450000;
    public const uint Version = 1;
    public const uint FeaturesAll = 0xF;          // CR_PIN_MSRS | LOCK_CR_HYPERCALL | PROTECT_MEMORY | DENIAL_EVENTS
    public const uint MaxRangesPerCall = 64;
    public const uint MaxRanges = 4096;
    public const uint Granule = 4096;

    // Section 2: MSR offsets and the pinnable bits.
    public const uint Cr0PinAllowed = 0, Cr4PinAllowed = 1, Cr0PinnedLow = 2, Cr0PinnedHigh = 3, Cr4PinnedLow = 4, Cr4PinnedHigh = 5;
    public const ulong Cr0Allowed = 0x00010000;
    public const ulong Cr4Allowed = 0x00300800;
    public const ulong Wp = 1UL << 16;
    public const ulong Umip = 1UL << 11, Smep = 1UL << 20, Smap = 1UL << 21;

    // Section 3: hypercall numbers, errors, permissions.
    public const ulong VersionCall = HypercallBase + 0;
    public const ulong LockCr = HypercallBase + 1;
    public const ulong ProtectMemory = HypercallBase + 2;
    public const long EPerm = -1, E2Big = -7, EFault = -14, EInval = -22, ENoSys = -1000;
    public const ulong R = 1, W = 2, X = 4, Immutable = 8;

    // Section 4: the host's #PF error-code bit; the architectural ones.
    public const uint PfP = 1, PfW = 2, PfU = 4, PfId = 16, PfHost = 1u << 31;

    // Section 7: compatibility numbering.
    public const uint CrPin2020MsrBase = 0x4B564D08;
    public const ulong HekiV3LockCrUpdate = 13;
    public const uint KvmBase = 0x40000000;

    /// <summary>The MSR numbering each profile offers (section 2 for heki, section 7 for cr-pin-2020).</summary>
    public static uint PinMsrBase(HekiHostProfile profile) => profile switch
    {
        HekiHostProfile.Heki => MsrBase,
        HekiHostProfile.CrPin2020 => CrPin2020MsrBase,
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };
}
