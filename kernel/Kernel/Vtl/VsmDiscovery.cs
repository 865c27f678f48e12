using HekiGuest.Abi;
using HekiGuest.Platform.Arch;

namespace HekiGuest.Kernel.Vtl;

// Is this a Hyper-V-style VSM host (docs/vtl.md section 1)? "Microsoft Hv" at 0x40000000, the
// "Hv#1" interface, and the privileges the monitor needs: the hypercall MSRs, VSM and the VP
// registers. QEMU (no such leaves) and hostsim's heki/none profiles answer no.
public static unsafe class VsmDiscovery
{
    /// <summary>Null when VSM is offered, else why not.</summary>
    public static string Check()
    {
        uint* r = stackalloc uint[4];
        Native.CpuId(1, 0, r);
        if ((r[2] & (1u << 31)) == 0) return "no hypervisor: CPUID.1:ECX.31 clear";
        Native.CpuId(HvCpuid.VendorLeaf, 0, r);
        if (r[1] != HvCpuid.VendorEbx || r[2] != HvCpuid.VendorEcx || r[3] != HvCpuid.VendorEdx || r[0] < HvCpuid.LimitsLeaf)
            return "no Hyper-V interface at CPUID 0x40000000: not a VSM host";
        Native.CpuId(HvCpuid.InterfaceLeaf, 0, r);
        if (r[0] != HvCpuid.InterfaceHv1) return "the hypervisor interface is not Hv#1";
        Native.CpuId(HvCpuid.FeaturesLeaf, 0, r);
        if ((r[0] & HvPrivilege.AccessHypercallMsrs) == 0) return "no AccessHypercallMsrs privilege";
        if ((r[1] & HvPrivilege.AccessVsm) == 0 || (r[1] & HvPrivilege.AccessVpRegisters) == 0) return "no AccessVsm/AccessVpRegisters privilege";
        return null;
    }
}
