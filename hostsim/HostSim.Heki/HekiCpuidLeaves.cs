using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// CPUID as the guest sees it under a profile: the CPU's own leaves, plus (unless the profile is
/// none) the hypervisor-present bit, KVM's signature range at 0x40000000 (feature bit 15 under
/// cr-pin-2020) and, under the HekiGuest profile, the HekiGuest range at 0x40000100.
/// </summary>
public sealed class HekiCpuidLeaves(ICpuidProvider processor, HekiHost host) : ICpuidProvider
{
    private const uint HypervisorPresent = 1u << 31;
    private const uint KvmHighestLeaf = HekiCompat.KvmCpuidFeatures;

    public CpuidResult Query(Cpu.Cpu cpu, uint leaf, uint subleaf)
    {
        if (host.Profile == HekiHostProfile.None)
        {
            return processor.Query(cpu, leaf, subleaf);
        }
        if (leaf == 1)
        {
            var r = processor.Query(cpu, leaf, subleaf);
            return r with { Ecx = r.Ecx | HypervisorPresent };
        }
        if (leaf < HekiCpuid.ScanFirst || leaf > HekiCpuid.ScanLast + 0xFF)
        {
            return processor.Query(cpu, leaf, subleaf);
        }
        switch (leaf)
        {
            case HekiCompat.KvmCpuidBase:
                return new CpuidResult(KvmHighestLeaf, HekiCompat.KvmSignatureEbx, HekiCompat.KvmSignatureEcx, HekiCompat.KvmSignatureEdx);
            case HekiCompat.KvmCpuidFeatures:
                return new CpuidResult(host.Profile == HekiHostProfile.CrPin2020 ? 1u << HekiCompat.CrPin2020FeatureBit : 0, 0, 0, 0);
        }
        if (host.Profile == HekiHostProfile.Heki && leaf >= HekiCpuid.DefaultBase && leaf <= HekiCpuid.DefaultBase + HekiCpuid.HighestLeafOffset)
        {
            return (leaf - HekiCpuid.DefaultBase) switch
            {
                HekiCpuid.LeafSignature => new CpuidResult(HekiCpuid.DefaultBase + HekiCpuid.HighestLeafOffset,
                    HekiCpuid.SignatureEbx, HekiCpuid.SignatureEcx, HekiCpuid.SignatureEdx),
                HekiCpuid.LeafFeatures => new CpuidResult(HekiCpuid.AbiVersion, host.Features, host.MsrBase, host.HypercallBase),
                _ => new CpuidResult(host.Permissions.MaxRangesPerCall, host.Permissions.MaxRanges, HekiLimits.Granule, 0),
            };
        }
        return default;
    }
}
