using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// CPUID under the VSM profile (docs/vtl.md section 1): the CPU's own leaves with the
/// hypervisor-present bit, Hyper-V's range at 0x40000000-0x40000006 ("Microsoft Hv", "Hv#1",
/// the partition privileges), and KVM's signature moved to 0x40000100. No HekiGuest range: this
/// host has no HekiGuest interface. Every other hypervisor leaf reads as zero.
/// </summary>
public sealed class VsmCpuidLeaves(ICpuidProvider processor) : ICpuidProvider
{
    private const uint HypervisorPresent = 1u << 31;
    private const uint HypervisorRangeFirst = 0x40000000;
    private const uint HypervisorRangeLast = 0x4000FFFF;
    private const uint KvmBase = HvCpuid.KvmBaseWithHyperV;

    /// <summary>Partition privileges bits 31:0 (EAX of 0x40000003).</summary>
    public const uint PrivilegesLow = HvPrivilege.AccessHypercallMsrs | HvPrivilege.AccessVpIndex;

    /// <summary>Partition privileges bits 63:32 (EBX of 0x40000003).</summary>
    public const uint PrivilegesHigh = HvPrivilege.AccessVsm | HvPrivilege.AccessVpRegisters;

    /// <summary>Virtual processors the partition has (EAX of 0x40000005): hostsim runs one.</summary>
    public const uint MaxVirtualProcessors = 1;

    public CpuidResult Query(Cpu.Cpu cpu, uint leaf, uint subleaf)
    {
        if (leaf == 1)
        {
            var r = processor.Query(cpu, leaf, subleaf);
            return r with { Ecx = r.Ecx | HypervisorPresent };
        }
        if (leaf < HypervisorRangeFirst || leaf > HypervisorRangeLast)
        {
            return processor.Query(cpu, leaf, subleaf);
        }
        return leaf switch
        {
            HvCpuid.VendorLeaf => new CpuidResult(HvCpuid.HighestLeaf, HvCpuid.VendorEbx, HvCpuid.VendorEcx, HvCpuid.VendorEdx),
            HvCpuid.InterfaceLeaf => new CpuidResult(HvCpuid.InterfaceHv1, 0, 0, 0),
            HvCpuid.FeaturesLeaf => new CpuidResult(PrivilegesLow, PrivilegesHigh, 0, 0),
            HvCpuid.RecommendationsLeaf => new CpuidResult(0, HvCpuid.SpinlockRetriesNever, 0, 0),
            HvCpuid.LimitsLeaf => new CpuidResult(MaxVirtualProcessors, 0, 0, 0),
            KvmBase => new CpuidResult(KvmBase + KvmSignature.FeaturesOffset, KvmSignature.Ebx, KvmSignature.Ecx, KvmSignature.Edx),
            // 0x40000002 (identity), 0x40000006 (hardware features), KVM's features leaf and
            // every other hypervisor leaf: zero.
            _ => default,
        };
    }
}
