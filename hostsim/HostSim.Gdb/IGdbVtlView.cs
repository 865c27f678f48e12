using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// What the gdb stub needs to know about Virtual Trust Levels (--profile vsm): which VTL the
/// vCPU runs now, whether the VM was started with the VTL1 debug opt-in, and the private
/// registers a VTL that is not running saved at its last switch.
/// </summary>
public interface IGdbVtlView
{
    int CurrentVtl { get; }

    /// <summary>The highest VTL the host has (1 under --profile vsm).</summary>
    int HighestVtl { get; }

    bool Vtl1DebugOptIn { get; }

    /// <summary>The saved private registers of <paramref name="vtl"/> (null when it never ran or is current).</summary>
    VtlPrivateState? Saved(int vtl);
}
