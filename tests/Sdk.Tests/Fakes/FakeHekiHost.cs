using HekiGuest.Abi;

namespace HekiGuest.Sdk.Tests.Fakes;

/// <summary>Which interface the fake host presents (docs/abi.md sections 1 and 7).</summary>
public enum HostProfile { None, Heki, CrPin2020, HekiV3 }

/// <summary>
/// A host that follows the rules of docs/abi.md: CPUID leaves per profile, the CR-pinning MSRs
/// (ALLOWED read-only, pins only grow, only allowed bits), LOCK_CR, VERSION and PROTECT_MEMORY
/// with its validation (per-call and total limits, alignment, page count, overflow, end of
/// memory, permission bits, atomic calls). The range array is read at its guest-physical address,
/// which in these tests is the array's address in this process (the fake CPU maps every address
/// outside its mapped window to itself).
/// </summary>
public sealed unsafe class FakeHekiHost
{
    public HostProfile Profile = HostProfile.Heki;
    public uint CpuidBase = HekiCpuid.DefaultBase;
    public uint HighestLeafOffset = HekiCpuid.HighestLeafOffset;
    public uint Version = HekiCpuid.AbiVersion;
    public uint Features = HekiCpuid.FeatureCrPinMsrs | HekiCpuid.FeatureLockCrHypercall | HekiCpuid.FeatureProtectMemory | HekiCpuid.FeatureDenialEvents;
    public uint MsrBase = HekiMsr.DefaultBase;
    public uint HypercallBase = HekiHypercall.DefaultBase;
    public uint MaxRangesPerCall = HekiLimits.MaxRangesPerCall;
    public uint MaxRanges = HekiLimits.MaxRanges;
    public ulong MemorySize = 1UL << 30;
    public bool CrPin2020FeatureBit = true;
    public long HekiV3VersionAnswer = HekiCompat.HekiV3Version;

    public ulong Cr0PinnedHigh, Cr4PinnedHigh, Cr0PinnedLow, Cr4PinnedLow;
    /// <summary>Every range accepted, in order, one list per accepted PROTECT_MEMORY call.</summary>
    public readonly List<HekiRange[]> AcceptedCalls = new();
    public IEnumerable<HekiRange> AcceptedRanges => AcceptedCalls.SelectMany(c => c);

    public void Cpuid(uint leaf, uint[] r)
    {
        Array.Clear(r);
        bool kvm = Profile != HostProfile.None;
        if (kvm && leaf == HekiCompat.KvmCpuidBase)
        {
            r[0] = HekiCompat.KvmCpuidFeatures;
            r[1] = HekiCompat.KvmSignatureEbx; r[2] = HekiCompat.KvmSignatureEcx; r[3] = HekiCompat.KvmSignatureEdx;
        }
        else if (kvm && leaf == HekiCompat.KvmCpuidFeatures)
            r[0] = Profile == HostProfile.CrPin2020 && CrPin2020FeatureBit ? 1u << HekiCompat.CrPin2020FeatureBit : 0;
        else if (Profile == HostProfile.Heki && leaf == CpuidBase)
        {
            r[0] = CpuidBase + HighestLeafOffset;
            r[1] = HekiCpuid.SignatureEbx; r[2] = HekiCpuid.SignatureEcx; r[3] = HekiCpuid.SignatureEdx;
        }
        else if (Profile == HostProfile.Heki && leaf == CpuidBase + HekiCpuid.LeafFeatures)
        {
            r[0] = Version; r[1] = Features; r[2] = MsrBase; r[3] = HypercallBase;
        }
        else if (Profile == HostProfile.Heki && leaf == CpuidBase + HekiCpuid.LeafLimits)
        {
            r[0] = MaxRangesPerCall; r[1] = MaxRanges; r[2] = HekiLimits.Granule;
        }
    }

    private bool TryMsrOffset(uint msr, out uint offset)
    {
        offset = 0;
        if (Profile == HostProfile.Heki && (Features & HekiCpuid.FeatureCrPinMsrs) != 0 && msr - MsrBase < HekiMsr.Count)
        {
            offset = msr - MsrBase;
            return true;
        }
        if (Profile == HostProfile.CrPin2020 && msr - HekiCompat.CrPin2020Cr0PinAllowed < HekiMsr.Count)
        {
            offset = msr - HekiCompat.CrPin2020Cr0PinAllowed;
            return true;
        }
        return false;
    }

    public bool TryReadMsr(uint msr, out ulong value)
    {
        value = 0;
        if (!TryMsrOffset(msr, out uint o)) return false;
        value = o switch
        {
            HekiMsr.Cr0PinAllowed => HekiCrBits.Cr0Allowed,
            HekiMsr.Cr4PinAllowed => HekiCrBits.Cr4Allowed,
            HekiMsr.Cr0PinnedLow => Cr0PinnedLow,
            HekiMsr.Cr0PinnedHigh => Cr0PinnedHigh,
            HekiMsr.Cr4PinnedLow => Cr4PinnedLow,
            _ => Cr4PinnedHigh,
        };
        return true;
    }

    /// <summary>False = #GP (section 2's rules).</summary>
    public bool TryWriteMsr(uint msr, ulong value)
    {
        if (!TryMsrOffset(msr, out uint o)) return false;
        switch (o)
        {
            case HekiMsr.Cr0PinnedHigh: return TryPin(ref Cr0PinnedHigh, Cr0PinnedLow, HekiCrBits.Cr0Allowed, value);
            case HekiMsr.Cr4PinnedHigh: return TryPin(ref Cr4PinnedHigh, Cr4PinnedLow, HekiCrBits.Cr4Allowed, value);
            case HekiMsr.Cr0PinnedLow: return TryPin(ref Cr0PinnedLow, Cr0PinnedHigh, HekiCrBits.Cr0Allowed, value);
            case HekiMsr.Cr4PinnedLow: return TryPin(ref Cr4PinnedLow, Cr4PinnedHigh, HekiCrBits.Cr4Allowed, value);
            default: return false;
        }
    }

    private static bool TryPin(ref ulong pins, ulong other, ulong allowed, ulong value)
    {
        if ((value & ~allowed) != 0 || (value & other) != 0 || (pins & ~value) != 0) return false;
        pins = value;
        return true;
    }

    public long Hypercall(ulong nr, ulong a0, ulong a1, ulong a2)
    {
        if (Profile == HostProfile.HekiV3 && nr == HekiCompat.HekiV3LockCrUpdate)
            return a2 == HekiCompat.HekiV3FlagVersion && a0 == 0 && a1 == 0 ? HekiV3VersionAnswer : LockCr(a0, a1, a2);
        if (Profile != HostProfile.Heki) return HekiError.NoSuchHypercall;
        if (nr == HypercallBase + HekiHypercall.Version) return Version;
        if (nr == HypercallBase + HekiHypercall.LockCr)
        {
            if ((Features & HekiCpuid.FeatureLockCrHypercall) == 0) return HekiError.NotSupported;
            if (a2 == HekiHypercall.LockCrFlagVersion && a0 == 0 && a1 == 0) return Version;
            return LockCr(a0, a1, a2);
        }
        if (nr == HypercallBase + HekiHypercall.ProtectMemory)
            return (Features & HekiCpuid.FeatureProtectMemory) == 0 ? HekiError.NotSupported : ProtectMemory(a0, a1, a2);
        return HekiError.NoSuchHypercall;
    }

    private long LockCr(ulong cr, ulong bits, ulong flags)
    {
        if (flags != 0 || (cr != 0 && cr != 4)) return HekiError.InvalidArgument;
        ulong allowed = cr == 0 ? HekiCrBits.Cr0Allowed : HekiCrBits.Cr4Allowed;
        if (bits == 0 || (bits & ~allowed) != 0) return HekiError.InvalidArgument;
        if ((bits & (cr == 0 ? Cr0PinnedLow : Cr4PinnedLow)) != 0) return HekiError.InvalidArgument;
        if (cr == 0) Cr0PinnedHigh |= bits; else Cr4PinnedHigh |= bits;
        return HekiError.Success;
    }

    private long ProtectMemory(ulong gpa, ulong count, ulong flags)
    {
        if (flags != 0 || count == 0) return HekiError.InvalidArgument;
        if (count > MaxRangesPerCall) return HekiError.TooBig;
        if ((gpa & 7) != 0) return HekiError.InvalidArgument;
        var ranges = new ReadOnlySpan<HekiRange>((void*)gpa, (int)count).ToArray();
        foreach (var r in ranges)
        {
            if ((r.GuestPhysicalStart & 0xFFF) != 0 || r.PageCount == 0 || (r.Permissions & ~HekiPermission.All) != 0) return HekiError.InvalidArgument;
            if (r.PageCount > (ulong.MaxValue >> 12)) return HekiError.InvalidArgument;
            ulong end = r.GuestPhysicalStart + (r.PageCount << 12);
            if (end < r.GuestPhysicalStart || end > MemorySize) return HekiError.InvalidArgument;
        }
        if ((ulong)AcceptedRanges.Count() + count > MaxRanges) return HekiError.TooBig;
        AcceptedCalls.Add(ranges);
        return HekiError.Success;
    }
}
