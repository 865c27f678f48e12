using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// Keeps VTL1 private from the host's own inspection paths (docs/vtl.md section 13): while the VP
/// runs VTL1, --trace records none of its instructions or exceptions and a crash report shows no
/// registers or instruction history; at any time, a page VTL1 made unreadable to VTL0 reads as
/// unreadable to the host too. Installed unless the VM was started with the opt-in (--show-vtl1).
/// </summary>
public sealed class Vtl1InspectionFilter(VsmHost host) : IHostInspectionFilter
{
    public bool HidesState => host.CurrentVtl != 0;

    public bool HidesPage(ulong physical) => host.Partition.Vtl0Protections.Denies(physical, HvMapGpa.Read);

    public string Notice => "VTL1's instructions, registers and the pages it hides from VTL0 are not shown (start with --show-vtl1 to show them)";
}
