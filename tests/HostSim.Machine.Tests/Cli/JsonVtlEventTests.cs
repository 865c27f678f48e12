using System.Text;
using System.Text.Json;
using HekiGuest.HostSim.Cli;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>docs/vtl.md section 8: the --events lines for VTL enables, calls and returns.</summary>
public sealed class JsonVtlEventTests
{
    [Fact]
    public void Each_vtl_change_is_one_json_line()
    {
        using var stream = new MemoryStream();
        using (var writer = new JsonEventWriter(stream))
        {
            IVsmEventSink sink = writer;
            sink.Vtl(VsmVtlEvent.PartitionVtlEnabled, 0, 1);
            sink.Vtl(VsmVtlEvent.VpVtlEnabled, 0, 1);
            sink.Vtl(VsmVtlEvent.VtlCall, 0, 1);
            sink.Vtl(VsmVtlEvent.VtlReturn, 0, 0);
        }
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["vtl-enable", "vtl-enable", "vtl-call", "vtl-return"], lines.Select(e => e.GetProperty("event").GetString()));
        Assert.Equal("partition", lines[0].GetProperty("scope").GetString());
        Assert.Equal("vp", lines[1].GetProperty("scope").GetString());
        Assert.Equal([1, 1, 1, 0], lines.Select(e => e.GetProperty("vtl").GetInt32()));
        Assert.All(lines, e => Assert.Equal(0, e.GetProperty("vcpu").GetInt32()));
    }
}
