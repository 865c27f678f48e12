using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Gdb;

/// <summary>The VSM host's VTLs as the gdb stub sees them (VP 0).</summary>
public sealed class VsmGdbVtlView(VsmHost host, bool vtl1DebugOptIn) : IGdbVtlView
{
    public int CurrentVtl => host.CurrentVtl;

    public int HighestVtl => 1;

    public bool Vtl1DebugOptIn => vtl1DebugOptIn;

    public VtlPrivateState? Saved(int vtl) => vtl == host.CurrentVtl ? null : host.Partition.Vps[VsmHost.Vcpu].Saved(vtl);
}
