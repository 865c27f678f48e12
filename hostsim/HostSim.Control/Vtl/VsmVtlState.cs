using System.Text.Json.Nodes;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Control.Vtl;

/// <summary>
/// --profile vsm: the partition's enabled VTLs and each VP's current and enabled VTLs, read from
/// <see cref="VsmHost"/>. VTL1's private register state is not shown; "vtl1-debug" only records
/// the policy's opt-in for the debugger that will honour it.
/// </summary>
public sealed class VsmVtlState(VsmHost host, bool vtl1Debug) : IVtlStateSource
{
    private const int MaxVtl = 1;

    public JsonObject Query()
    {
        var vps = new JsonArray();
        foreach (var vp in host.Partition.Vps)
        {
            vps.Add(new JsonObject
            {
                ["index"] = vp.Index, ["current-vtl"] = vp.CurrentVtl, ["enabled-vtls"] = Enabled(vp.IsEnabled),
            });
        }
        return new JsonObject
        {
            ["vsm"] = true, ["current-vtl"] = host.CurrentVtl, ["enabled-vtls"] = Enabled(host.Partition.IsEnabled),
            ["vtl1-debug"] = vtl1Debug, ["vps"] = vps,
        };
    }

    private static JsonArray Enabled(Func<int, bool> isEnabled)
    {
        var a = new JsonArray();
        for (int vtl = 0; vtl <= MaxVtl; vtl++)
        {
            if (isEnabled(vtl)) a.Add(vtl);
        }
        return a;
    }
}
