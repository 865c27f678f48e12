using System.Text;
using System.Text.Json;
using HekiGuest.HostSim.Cli;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>docs/vtl.md section 8: the --events lines for VTL enables, calls and returns,
/// protection changes, VTL1's control registers and secure intercepts.</summary>
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

    [Fact]
    public void An_exception_a_higher_vtl_made_pending_is_one_inject_line()
    {
        using var stream = new MemoryStream();
        using (var writer = new JsonEventWriter(stream))
        {
            IVsmEventSink sink = writer;
            sink.Injected(0, 0, 13, 0, 0x1005FD);
        }
        var line = JsonDocument.Parse(Encoding.UTF8.GetString(stream.ToArray()).Trim('\n')).RootElement;
        Assert.Equal("inject", line.GetProperty("event").GetString());
        Assert.Equal(0, line.GetProperty("vcpu").GetInt32());
        Assert.Equal(0, line.GetProperty("vtl").GetInt32());
        Assert.Equal(13, line.GetProperty("vector").GetInt32());
        Assert.Equal("0x0", line.GetProperty("error_code").GetString());
        Assert.Equal("0x1005fd", line.GetProperty("rip").GetString());
    }

    [Fact]
    public void Protection_changes_controls_and_intercepts_are_one_json_line_each()
    {
        using var stream = new MemoryStream();
        using (var writer = new JsonEventWriter(stream))
        {
            IVsmEventSink sink = writer;
            sink.Protection(VsmProtectionScope.Default, 0, 0, 0, 1024, 0xF);
            sink.Protection(VsmProtectionScope.Pages, 0, 0, 0x44000, 3, 0);
            sink.Control(0, 0x000E0000, 0x2);
            sink.Intercept(new VsmInterceptEvent(VsmInterceptKind.Memory, 0, 0x30010) { Gpa = 0x3000, Gva = 0x150000, Access = Cpu.AccessKind.Write, PageWalk = true });
            sink.Intercept(new VsmInterceptEvent(VsmInterceptKind.Register, 0, 0x30020) { Register = 0x00040003, Value = 0x40020 });
            sink.Intercept(new VsmInterceptEvent(VsmInterceptKind.Msr, 0, 0x30030) { Msr = 0xC0000082, Value = 0xFFFF800000123000 });
        }
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["vtl-protect", "vtl-protect", "vtl-control", "intercept", "intercept", "intercept"], lines.Select(e => e.GetProperty("event").GetString()));
        Assert.Equal("default", lines[0].GetProperty("scope").GetString());
        Assert.False(lines[0].TryGetProperty("gpa", out _));
        Assert.Equal(1024, lines[0].GetProperty("pages").GetInt64());
        Assert.Equal("0xf", lines[0].GetProperty("mask").GetString());
        Assert.Equal("0x44000", lines[1].GetProperty("gpa").GetString());
        Assert.Equal("0x0", lines[1].GetProperty("mask").GetString());
        Assert.Equal("0xe0000", lines[2].GetProperty("register").GetString());
        Assert.Equal(["memory", "register", "msr"], lines[3..].Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal("0x3000", lines[3].GetProperty("gpa").GetString());
        Assert.Equal("write", lines[3].GetProperty("access").GetString());
        Assert.Equal("page-walk", lines[3].GetProperty("cause").GetString());
        Assert.Equal("0x40003", lines[4].GetProperty("register").GetString());
        Assert.Equal("0xc0000082", lines[5].GetProperty("msr").GetString());
        Assert.Equal("0x30030", lines[5].GetProperty("rip").GetString());
    }
}
