using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>
/// The QMP control socket over a real Unix socket, checked against QEMU's QMP reference: the
/// greeting, capabilities negotiation, execute/arguments/id, return and error shapes with QEMU's
/// error classes, events with timestamps, and the standard commands. hostsim runs as a process.
/// </summary>
public sealed class QmpSocketTests : IDisposable
{
    private readonly TempFiles _files = new();
    private readonly string _socket;
    private readonly string _spin;

    public QmpSocketTests()
    {
        _socket = _files.Path("qmp.sock");
        _spin = _files.Write("spin.elf", Guests.Spins());
    }

    private HostSimProcess StartSpinning(params string[] extra) =>
        HostSimProcess.Start([_spin, "--qmp", $"unix:{_socket},server", "--timeout", "100s", .. extra]);

    [Fact]
    public void Greeting_negotiation_and_quit_are_qemus()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Connect(_socket, vm);

        var version = c.Greeting["QMP"]!["version"]!;
        Assert.Equal(0, (int)version["qemu"]!["major"]!);
        Assert.NotNull(version["qemu"]!["minor"]);
        Assert.NotNull(version["qemu"]!["micro"]);
        Assert.Equal("hostsim (HekiGuest)", (string?)version["package"]);
        Assert.Empty(c.Greeting["QMP"]!["capabilities"]!.AsArray());

        // commands before negotiation are CommandNotFound, as in QEMU
        var early = c.Execute("query-status", id: "a1");
        Assert.Equal("CommandNotFound", (string?)early["error"]!["class"]);
        Assert.Equal("Expecting capabilities negotiation with 'qmp_capabilities'", (string?)early["error"]!["desc"]);
        Assert.Equal("a1", (string?)early["id"]);

        var caps = c.Execute("qmp_capabilities", id: 7);
        Assert.Equal("{\"return\":{},\"id\":7}", caps.ToJsonString());
        var again = c.Execute("qmp_capabilities");
        Assert.Equal("CommandNotFound", (string?)again["error"]!["class"]);

        var status = c.Execute("query-status", id: new JsonObject { ["any"] = new JsonArray(1, 2) });
        Assert.Equal("running", (string?)status["return"]!["status"]);
        Assert.True((bool)status["return"]!["running"]!);
        Assert.Equal("{\"any\":[1,2]}", status["id"]!.ToJsonString());

        var v = c.Execute("query-version");
        Assert.Equal(version.ToJsonString(), v["return"]!.ToJsonString());

        var names = c.Execute("query-commands")["return"]!.AsArray().Select(n => (string)n!["name"]!).ToList();
        foreach (var expected in new[] { "qmp_capabilities", "query-status", "stop", "cont", "system_reset", "quit", "query-version", "query-commands",
                     "hostsim-query-pins", "hostsim-set-pins", "hostsim-clear-pins", "hostsim-query-permissions", "hostsim-set-permissions",
                     "hostsim-query-vtl", "hostsim-query-filter", "hostsim-set-filter", "hostsim-query-denial-actions",
                     "hostsim-set-denial-action", "hostsim-verdict", "hostsim-query-cpu" })
        {
            Assert.Contains(expected, names);
        }

        Assert.Equal("{\"return\":{}}", c.Execute("quit").ToJsonString());
        var shutdown = c.WaitEvent("SHUTDOWN");
        Assert.False((bool)shutdown["data"]!["guest"]!);
        Assert.Equal("host-qmp-quit", (string?)shutdown["data"]!["reason"]);
        var ts = shutdown["timestamp"]!;
        long seconds = (long)ts["seconds"]!, micros = (long)ts["microseconds"]!;
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 120, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.InRange(micros, 0, 999_999);
        Assert.Null(c.TryReadMessage());                       // then hostsim closes the connection
        var result = vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.False(File.Exists(_socket), "the socket file is removed at exit");
    }

    [Fact]
    public void Stop_pauses_the_guest_and_cont_resumes_it_with_STOP_and_RESUME_events()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Negotiated(_socket, vm);

        Assert.Equal("{\"return\":{}}", c.Execute("stop").ToJsonString());
        Assert.Equal("STOP", (string?)c.WaitEvent("STOP")["event"]);
        var status = c.Execute("query-status")["return"]!;
        Assert.Equal("paused", (string?)status["status"]);
        Assert.False((bool)status["running"]!);
        long before = (long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]!;
        Thread.Sleep(200);
        long after = (long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]!;
        Assert.Equal(before, after);                          // a paused guest retires nothing

        c.Execute("cont");
        c.WaitEvent("RESUME");
        Assert.Equal("running", (string?)c.Execute("query-status")["return"]!["status"]);
        Thread.Sleep(100);
        Assert.True((long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]! > after);
        c.Execute("quit");
        Assert.Equal(0, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Paused_start_runs_nothing_before_cont()
    {
        var hi = _files.Write("hi.elf", Guests.SaysHi());
        using var vm = HostSimProcess.Start(hi, "--qmp", $"unix:{_socket},server,wait=off", "-S", "--timeout", "60s");
        using var c = QmpClient.Negotiated(_socket, vm);
        var status = c.Execute("query-status")["return"]!;
        Assert.Equal("prelaunch", (string?)status["status"]);
        Assert.Equal(0, (long)c.Execute("hostsim-query-cpu")["return"]!["instructions"]!);
        c.Execute("cont");
        var exit = c.WaitEvent("HOSTSIM_EXIT");
        Assert.Equal(1, (int)exit["data"]!["exit-code"]!);
        var shutdown = c.WaitEvent("SHUTDOWN");
        Assert.True((bool)shutdown["data"]!["guest"]!);
        Assert.Equal("guest-shutdown", (string?)shutdown["data"]!["reason"]);
        var result = vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("hi", result.Stdout);
    }

    [Fact]
    public void System_reset_reboots_the_guest_and_sends_RESET()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Negotiated(_socket, vm);
        Assert.Equal("{\"return\":{}}", c.Execute("system_reset").ToJsonString());
        var reset = c.WaitEvent("RESET");
        Assert.False((bool)reset["data"]!["guest"]!);
        Assert.Equal("host-qmp-system-reset", (string?)reset["data"]!["reason"]);
        Assert.Equal(1, (int)c.Execute("hostsim-query-cpu")["return"]!["resets"]!);
        Assert.Equal("running", (string?)c.Execute("query-status")["return"]!["status"]);
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("{\"execute\": }", "GenericError", "JSON parse error")]
    [InlineData("[1, 2]", "GenericError", "QMP input must be a JSON object")]
    [InlineData("\"query-status\"\n", "GenericError", "QMP input must be a JSON object")]
    [InlineData("nonsense\n", "GenericError", "JSON parse error")]
    [InlineData("{\"arguments\": {}}", "GenericError", "QMP input lacks member 'execute'")]
    [InlineData("{\"execute\": 5}", "GenericError", "QMP input member 'execute' must be a string")]
    [InlineData("{\"execute\": \"stop\", \"arguments\": []}", "GenericError", "QMP input member 'arguments' must be an object")]
    [InlineData("{\"execute\": \"stop\", \"extra\": 1}", "GenericError", "QMP input member 'extra' is unexpected")]
    [InlineData("{\"execute\": \"no-such-command\"}", "CommandNotFound", "The command no-such-command has not been found")]
    [InlineData("{\"execute\": \"stop\", \"arguments\": {\"now\": true}}", "GenericError", "Parameter 'now' is unexpected")]
    [InlineData("{\"execute\": \"hostsim-set-pins\", \"arguments\": {\"cr\": \"four\", \"high\": 1}}", "GenericError", "Invalid parameter type for 'cr', expected: integer")]
    [InlineData("{\"execute\": \"hostsim-set-pins\", \"arguments\": {\"cr\": -4, \"high\": 1}}", "GenericError", "Invalid parameter type for 'cr', expected: integer")]
    [InlineData("{\"execute\": \"hostsim-set-pins\", \"arguments\": {\"high\": 1}}", "GenericError", "Parameter 'cr' is missing")]
    [InlineData("{\"execute\": \"hostsim-set-denial-action\", \"arguments\": {\"kind\": \"everything\", \"action\": \"stop\"}}", "GenericError", "Parameter 'kind' does not accept value 'everything'")]
    [InlineData("{\"execute\": \"hostsim-set-filter\", \"arguments\": {\"rules\": [{\"cr\": 4, \"bits\": \"0x100000\", \"action\": \"perhaps\"}]}}", "GenericError", "Parameter 'rules' is invalid")]
    [InlineData("{\"execute\": \"hostsim-verdict\", \"arguments\": {\"ask-id\": 1, \"verdict\": \"allow\"}}", "GenericError", "no question is waiting for a verdict")]
    [InlineData("{\"execute\": \"query-status\", \"execute\": \"stop\"}", "GenericError", "JSON parse error")]
    public void Bad_input_gets_an_error_reply_and_the_vm_runs_on(string request, string errorClass, string descStart)
    {
        using var vm = StartSpinning("--pin", "cr4=0x100000");
        using var c = QmpClient.Negotiated(_socket, vm);
        c.SendRaw(request);
        var reply = c.ReadReply();
        Assert.True(reply.ContainsKey("error"), reply.ToJsonString());
        Assert.Equal(errorClass, (string?)reply["error"]!["class"]);
        Assert.StartsWith(descStart, (string?)reply["error"]!["desc"]);
        // nothing changed: still running, pins as set
        Assert.Equal("running", (string?)c.Execute("query-status")["return"]!["status"]);
        Assert.Equal("0x100000", (string?)c.Execute("hostsim-query-pins")["return"]!["cr4"]!["pinned-high"]);
        c.Execute("quit");
        Assert.Equal(0, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Id_is_echoed_on_errors_too()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Negotiated(_socket, vm);
        var reply = c.Execute("no-such", id: "x-17");
        Assert.Equal("{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command no-such has not been found\"},\"id\":\"x-17\"}", reply.ToJsonString());
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Two_requests_in_one_write_and_one_request_across_writes_are_both_answered()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Negotiated(_socket, vm);
        c.SendRaw("{\"execute\":\"query-version\",\"id\":1}{\"execute\":\"query-status\",\"id\":2}");
        Assert.Equal(1, (int)c.ReadReply()["id"]!);
        Assert.Equal(2, (int)c.ReadReply()["id"]!);
        c.SendRaw("{\"execute\":\"query-");
        Thread.Sleep(50);
        c.SendRaw("status\",\"id\":\"a \\\" } b\"}\n");
        var r = c.ReadReply();
        Assert.Equal("a \" } b", (string?)r["id"]);
        Assert.Equal("running", (string?)r["return"]!["status"]);
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_client_that_disconnects_mid_command_leaves_the_vm_as_it_was()
    {
        using var vm = StartSpinning();
        using (var c = QmpClient.Negotiated(_socket, vm))
        {
            // a command whose reply is never read, then half a command
            c.SendRaw("{\"execute\":\"stop\"}\n{\"execute\":\"cont");
        }
        using var d = QmpClient.Negotiated(_socket, vm);
        var status = d.Execute("query-status")["return"]!;
        Assert.Equal("paused", (string?)status["status"]);     // the stop took effect, the half cont did not
        d.Execute("cont");
        Assert.Equal("running", (string?)d.Execute("query-status")["return"]!["status"]);
        d.Execute("quit");
        Assert.Equal(0, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void Capabilities_that_hostsim_lacks_are_refused()
    {
        using var vm = StartSpinning();
        using var c = QmpClient.Connect(_socket, vm);
        var r = c.Execute("qmp_capabilities", new JsonObject { ["enable"] = new JsonArray("oob") });
        Assert.Equal("Capability 'oob' not available", (string?)r["error"]!["desc"]);
        Assert.Equal("CommandNotFound", (string?)c.Execute("query-status")["error"]!["class"]);  // still negotiating
        c.Execute("qmp_capabilities", new JsonObject { ["enable"] = new JsonArray() });
        Assert.Equal("running", (string?)c.Execute("query-status")["return"]!["status"]);
        c.Execute("quit");
        vm.WaitForExit(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("tcp::4444", "only unix:PATH")]
    [InlineData("unix:/tmp/x.sock", "add ',server'")]
    [InlineData("unix:/tmp/x.sock,server,wait=maybe", "unknown option 'wait=maybe'")]
    [InlineData("unix:,server", "the socket path is empty")]
    public void Bad_qmp_options_are_one_line_usage_errors(string value, string expected)
    {
        var r = HostSimProcess.Run(_spin, "--qmp", value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_socket_path_that_cannot_be_bound_is_a_usage_error()
    {
        var r = HostSimProcess.Run(_spin, "--qmp", $"unix:{_files.Path("no-such-dir/q.sock")},server");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot listen", r.Stderr);
    }

    [Fact]
    public void Paused_start_needs_qmp()
    {
        var r = HostSimProcess.Run(_spin, "-S");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("needs --qmp", r.Stderr);
    }

    public void Dispose() => _files.Dispose();
}
