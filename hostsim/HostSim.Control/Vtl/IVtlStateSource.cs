using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Vtl;

/// <summary>
/// The extension point for QMP's hostsim-query-vtl: what the host knows about Virtual Trust
/// Levels, as a JSON object. Called on the VM thread at a slice boundary. A host that grows VTL
/// state (HostSim.Vsm as it lands) reports it through its own implementation; the keys of
/// <see cref="SingleVtlState"/> ("vsm", "current-vtl", "enabled-vtls", "vtl1-debug") are the
/// common part every implementation returns.
/// </summary>
public interface IVtlStateSource
{
    JsonObject Query();
}
