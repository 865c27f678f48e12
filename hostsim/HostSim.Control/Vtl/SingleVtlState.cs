using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Vtl;

/// <summary>A host without VSM (every HekiGuest profile, none): one VTL, 0, always current.</summary>
public sealed class SingleVtlState(bool vtl1Debug) : IVtlStateSource
{
    public JsonObject Query() => new()
    {
        ["vsm"] = false, ["current-vtl"] = 0, ["enabled-vtls"] = new JsonArray(0), ["vtl1-debug"] = vtl1Debug,
    };
}
