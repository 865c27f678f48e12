using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Gdb.Tests.Support;

/// <summary>An inspection filter hiding one physical page (as VSM hides VTL1's pages without the opt-in).</summary>
internal sealed class HidePage(ulong page) : IHostInspectionFilter
{
    public bool HidesState => false;

    public bool HidesPage(ulong physical) => physical >> 12 == page >> 12;

    public string Notice => "hidden for the test";
}
