using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>
/// hostsim's own QMP commands on a running VM: --events records as QMP events, CR pins set by host
/// userspace, the permission map, VTL state, denial actions with the client's verdict, and the
/// CR filter set and answered over QMP. Guests start paused (-S) so commands land before they run.
/// </summary>
public sealed class QmpHostControlTests : IDisposable
{
    private const string SmepHex = "0x100000";
    private readonly TempFiles _files = new();
    private readonly string _socket;
    private readonly string _smep;

    public QmpHostControlTests()
    {
        _socket = _files.Path("qmp.sock");
        _smep = _files.Write("smep.elf", Guests.TogglesSmep());
    }

    private (HostSimProcess Vm, QmpClient Client) StartPaused(string kernel, params string[] extra)
    {
        var vm = HostSimProcess.Start([kernel, "--qmp", $"unix:{_socket},server", "-S", "--timeout", "100s", .. extra]);
        return (vm, QmpClient.Negotiated(_socket, vm));
    }

    [Fact]
    public void Every_events_record_is_also_a_qmp_event_with_the_same_fields()
    {
        string events = _files.Path("events.jsonl");
        var (vm, c) = StartPaused(_smep, "--pin", $"cr4={SmepHex}", "--events", events);
        using var _ = vm;
        using var __ = c;
        c.Execute("hostsim-set-pins", new JsonObject { ["cr"] = 0, ["high"] = "0x10000" });
        c.Execute("cont");
        var configure = c.WaitEvent("HOSTSIM_CONFIGURE");
        var denial = c.WaitEvent("HOSTSIM_DENIAL");
        c.WaitEvent("SHUTDOWN");
        var result = vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(Guests.SmepExitCode(smep: true, osfxsr: true, sce: true, gpCount: 1), result.ExitCode);

        var lines = File.ReadAllLines(events).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        // the file: the pre-pin (before any client), the QMP pin, the denial
        Assert.Equal(["configure", "configure", "denial"], lines.Select(l => (string)l["event"]!));
        Assert.Equal(Without(lines[1], "event"), configure["data"]!.ToJsonString());
        Assert.Equal(Without(lines[2], "event"), denial["data"]!.ToJsonString());
        Assert.Equal("host", (string?)configure["data"]!["source"]);
        Assert.Equal("cr-write", (string?)denial["data"]!["kind"]);
        Assert.Equal(4, (int)denial["data"]!["cr"]!);
    }

    [Fact]
    public void Pins_set_over_qmp_hold_against_the_guest_and_clear_pins_releases_them()
    {
        var (vm, c) = StartPaused(_smep);
        using var _ = vm;
        using var __ = c;
        var set = c.Execute("hostsim-set-pins", new JsonObject { ["cr"] = 4, ["high"] = SmepHex })["return"]!;
        Assert.Equal(SmepHex, (string?)set["pinned-high"]);
        var both = c.Execute("hostsim-set-pins", new JsonObject { ["cr"] = 4, ["low"] = SmepHex });
        Assert.Contains("both high and low", (string?)both["error"]!["desc"]);
        Assert.Equal(SmepHex, (string?)c.Execute("hostsim-query-pins")["return"]!["cr4"]!["pinned-high"]);
        c.Execute("cont");
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Cleared_pins_no_longer_hold()
    {
        var (vm, c) = StartPaused(_smep, "--pin", $"cr4={SmepHex}");
        using var _ = vm;
        using var __ = c;
        var cleared = c.Execute("hostsim-clear-pins", new JsonObject { ["cr"] = 4 })["return"]!;
        Assert.Equal("0x0", (string?)cleared["cr4"]!["pinned-high"]);
        c.Execute("cont");
        Assert.Equal(Guests.SmepExitCode(false, true, true, 0), vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Pins_need_a_host_interface()
    {
        var (vm, c) = StartPaused(_smep, "--profile", "none");
        using var _ = vm;
        using var __ = c;
        var r = c.Execute("hostsim-set-pins", new JsonObject { ["cr"] = 4, ["high"] = SmepHex });
        Assert.Equal("GenericError", (string?)r["error"]!["class"]);
        Assert.Contains("CR filter", (string?)r["error"]!["desc"]);
        c.Execute("quit");
        Assert.Equal(0, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void The_permission_map_is_read_and_changed_by_host_userspace()
    {
        var (vm, c) = StartPaused(_smep);
        using var _ = vm;
        using var __ = c;
        Assert.Equal(0, (int)c.Execute("hostsim-query-permissions")["return"]!["protected-pages"]!);
        var set = c.Execute("hostsim-set-permissions", new JsonObject { ["gpa"] = "0x200000", ["pages"] = 3, ["permissions"] = 1 });
        Assert.Equal(3, (int)set["return"]!["protected-pages"]!);
        c.Execute("hostsim-set-permissions", new JsonObject { ["gpa"] = "0x201000", ["pages"] = 1, ["permissions"] = "0x9" });
        var ranges = c.Execute("hostsim-query-permissions")["return"]!["ranges"]!.ToJsonString();
        Assert.Equal("[{\"gpa\":\"0x200000\",\"pages\":1,\"permissions\":\"0x1\"},{\"gpa\":\"0x201000\",\"pages\":1,\"permissions\":\"0x9\"},"
            + "{\"gpa\":\"0x202000\",\"pages\":1,\"permissions\":\"0x1\"}]", ranges);
        // forgetting pages gives them every right back
        c.Execute("hostsim-set-permissions", new JsonObject { ["gpa"] = "0x200000", ["pages"] = 3 });
        Assert.Equal(0, (int)c.Execute("hostsim-query-permissions")["return"]!["protected-pages"]!);
        // bad requests change nothing
        foreach (var bad in new[]
        {
            new JsonObject { ["gpa"] = "0x200001", ["pages"] = 1, ["permissions"] = 1 },
            new JsonObject { ["gpa"] = "0x7fff000", ["pages"] = 2, ["permissions"] = 1 },
            new JsonObject { ["gpa"] = "0x200000", ["pages"] = 1, ["permissions"] = "0x100" },
        })
        {
            Assert.Equal("GenericError", (string?)c.Execute("hostsim-set-permissions", bad)["error"]!["class"]);
        }
        Assert.Equal(0, (int)c.Execute("hostsim-query-permissions")["return"]!["protected-pages"]!);
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_host_permission_change_is_enforced_at_once()
    {
        // the guest's code page loses EXEC while it runs: its next fetch is a denial, which stops the VM
        var spin = _files.Write("spin.elf", Guests.Spins());
        var (vm, c) = StartPaused(spin, "--on-denial", "stop");
        using var _ = vm;
        using var __ = c;
        c.Execute("cont");
        var set = c.Execute("hostsim-set-permissions", new JsonObject { ["gpa"] = "0x100000", ["pages"] = 1, ["permissions"] = 3 });
        Assert.True(set.ContainsKey("return"), set.ToJsonString());
        var denial = c.WaitEvent("HOSTSIM_DENIAL");
        Assert.Equal("memory", (string?)denial["data"]!["kind"]);
        Assert.Equal("execute", (string?)denial["data"]!["access"]);
        Assert.Equal(73, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Theory]
    [InlineData("heki", false)]
    [InlineData("none", false)]
    [InlineData("vsm", false)]
    [InlineData("vsm", true)]
    public void Vtl_state_is_reported_per_profile(string profile, bool vtl1Debug)
    {
        // the VTL1 debug opt-in (policy key vtl1-debug) only makes sense where there is a VTL1
        string policy = _files.Write("p.json", $"{{\"vtl1-debug\": {(vtl1Debug ? "true" : "false")}}}");
        var (vm, c) = StartPaused(_smep, "--profile", profile, "--policy", policy);
        using var _ = vm;
        using var __ = c;
        var v = c.Execute("hostsim-query-vtl")["return"]!;
        Assert.Equal(profile == "vsm", (bool)v["vsm"]!);
        Assert.Equal(0, (int)v["current-vtl"]!);
        Assert.Equal("[0]", v["enabled-vtls"]!.ToJsonString());
        Assert.Equal(vtl1Debug, (bool)v["vtl1-debug"]!);
        if (profile == "vsm") Assert.Equal(0, (int)v["vps"]![0]!["current-vtl"]!);
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("inject", 0)]
    [InlineData("stop", 73)]
    public void An_ask_denial_waits_for_the_clients_verdict(string verdict, int exitCode)
    {
        var (vm, c) = StartPaused(_smep, "--pin", $"cr4={SmepHex}", "--on-denial", "ask");
        using var _ = vm;
        using var __ = c;
        Assert.Equal("ask", (string?)c.Execute("hostsim-query-denial-actions")["return"]!["cr-write"]);
        c.Execute("cont");
        c.WaitEvent("HOSTSIM_DENIAL");
        var ask = c.WaitEvent("HOSTSIM_ASK")["data"]!;
        Assert.Equal("denial", (string?)ask["kind"]);
        Assert.Equal("[\"inject\",\"stop\"]", ask["verdicts"]!.ToJsonString());
        Assert.Equal("cr-write", (string?)ask["details"]!["kind"]);
        // the vCPU waits: paused, and it retires nothing until the verdict
        Assert.Equal("paused", (string?)c.Execute("query-status")["return"]!["status"]);
        long before = (long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]!;
        Thread.Sleep(100);
        Assert.Equal(before, (long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]!);
        // no reset in the middle of an instruction; a wrong verdict is refused
        Assert.Contains("verdict", (string?)c.Execute("system_reset")["error"]!["desc"]);
        var wrong = c.Execute("hostsim-verdict", new JsonObject { ["ask-id"] = ask["ask-id"]!.DeepClone(), ["verdict"] = "allow" });
        Assert.Contains("not one of inject, stop", (string?)wrong["error"]!["desc"]);
        var stale = c.Execute("hostsim-verdict", new JsonObject { ["ask-id"] = 999, ["verdict"] = verdict });
        Assert.Contains("is not waiting", (string?)stale["error"]!["desc"]);

        var ok = c.Execute("hostsim-verdict", new JsonObject { ["ask-id"] = ask["ask-id"]!.DeepClone(), ["verdict"] = verdict });
        Assert.Equal("{\"return\":{}}", ok.ToJsonString());
        var result = vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(exitCode == 0 ? Guests.SmepExitCode(true, true, true, 1) : exitCode, result.ExitCode);
    }

    [Fact]
    public void A_client_that_leaves_during_an_ask_gets_the_default_and_the_guest_runs_on()
    {
        var (vm, c) = StartPaused(_smep, "--pin", $"cr4={SmepHex}", "--on-denial", "ask");
        using var _ = vm;
        c.Execute("cont");
        c.WaitEvent("HOSTSIM_ASK");
        c.Dispose();
        // the default for a denial is inject: the guest sees #GP and finishes
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Denial_actions_are_set_per_kind()
    {
        var (vm, c) = StartPaused(_smep, "--pin", $"cr4={SmepHex}");
        using var _ = vm;
        using var __ = c;
        var table = c.Execute("hostsim-set-denial-action", new JsonObject { ["kind"] = "cr-write", ["action"] = "stop" })["return"]!;
        Assert.Equal("stop", (string?)table["cr-write"]);
        Assert.Equal("inject", (string?)table["memory"]);
        c.Execute("cont");
        var exit = c.WaitEvent("HOSTSIM_EXIT")["data"]!;
        Assert.Equal(73, (int)exit["exit-code"]!);
        Assert.Equal("host-error", (string?)c.WaitEvent("SHUTDOWN")["data"]!["reason"]);
        Assert.Equal(73, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Theory]
    [InlineData("allow", false, 0)]
    [InlineData("deny", true, 1)]
    public void A_filter_set_over_qmp_asks_the_client(string verdict, bool smepKept, int gp)
    {
        var (vm, c) = StartPaused(_smep, "--profile", "none");
        using var _ = vm;
        using var __ = c;
        var rules = new JsonArray(new JsonObject { ["cr"] = 4, ["bits"] = SmepHex, ["trap"] = "clear", ["action"] = "ask" });
        var state = c.Execute("hostsim-set-filter", new JsonObject { ["rules"] = rules })["return"]!;
        Assert.Equal("[{\"cr\":4,\"bits\":\"0x100000\",\"trap\":\"clear\",\"action\":\"ask\"}]", state["rules"]!.ToJsonString());
        c.Execute("cont");
        var ask = c.WaitEvent("HOSTSIM_ASK")["data"]!;
        Assert.Equal("filter", (string?)ask["kind"]);
        Assert.Equal("cr4", (string?)ask["details"]!["register"]);
        Assert.Equal(SmepHex, (string?)ask["details"]!["bits"]);
        c.Execute("hostsim-verdict", new JsonObject { ["ask-id"] = ask["ask-id"]!.DeepClone(), ["verdict"] = verdict });
        var trap = c.WaitEvent("HOSTSIM_FILTER")["data"]!;
        Assert.Equal(verdict, (string?)trap["verdict"]);
        Assert.Equal(Guests.SmepExitCode(smepKept, true, true, gp), vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    private static string Without(JsonObject o, string key)
    {
        var copy = o.DeepClone().AsObject();
        copy.Remove(key);
        return copy.ToJsonString();
    }

    public void Dispose() => _files.Dispose();
}
