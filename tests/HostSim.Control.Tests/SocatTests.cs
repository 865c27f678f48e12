using System.Diagnostics;
using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>
/// The control socket driven as a user drives QEMU's: `socat - UNIX-CONNECT:PATH` with the JSON
/// lines a QMP client sends typed on its standard input, the replies read from its output.
/// </summary>
public sealed class SocatTests : IDisposable
{
    private readonly TempFiles _files = new();

    [SocatFact]
    public void A_qmp_session_through_socat_gets_qemus_replies_and_events()
    {
        string socket = _files.Path("qmp.sock");
        var spin = _files.Write("spin.elf", Guests.Spins());
        using var vm = HostSimProcess.Start(spin, "--qmp", $"unix:{socket},server", "--timeout", "100s");
        WaitForSocket(socket, vm);
        var start = new ProcessStartInfo(Socat.Path!, ["-", $"UNIX-CONNECT:{socket}"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var socat = Process.Start(start)!;
        var output = socat.StandardOutput;

        var greeting = Next(output);
        Assert.NotNull(greeting["QMP"]!["version"]!["qemu"]);
        socat.StandardInput.WriteLine("{ \"execute\": \"qmp_capabilities\" }");
        Assert.Equal("{\"return\":{}}", Next(output).ToJsonString());
        socat.StandardInput.WriteLine("{ \"execute\": \"query-status\", \"id\": \"s1\" }");
        var status = Next(output);
        Assert.Equal("running", (string?)status["return"]!["status"]);
        Assert.Equal("s1", (string?)status["id"]);
        socat.StandardInput.WriteLine("{ \"execute\": \"stop\" }");
        var replies = new[] { Next(output), Next(output) };   // the reply and the STOP event, in either order
        Assert.Contains(replies, m => m.ToJsonString() == "{\"return\":{}}");
        Assert.Contains(replies, m => (string?)m["event"] == "STOP" && m["timestamp"]!["seconds"] is not null);
        socat.StandardInput.WriteLine("{ \"execute\": \"bogus\" }");
        Assert.Equal("CommandNotFound", (string?)Next(output)["error"]!["class"]);
        socat.StandardInput.WriteLine("{ \"execute\": ");          // malformed, finished by the next line
        socat.StandardInput.WriteLine("}");
        Assert.StartsWith("JSON parse error", (string?)Next(output)["error"]!["desc"]);
        socat.StandardInput.WriteLine("{ \"execute\": \"query-status\" }");
        Assert.Equal("paused", (string?)Next(output)["return"]!["status"]);
        socat.StandardInput.WriteLine("{ \"execute\": \"quit\" }");
        var last = new List<JsonObject>();
        while (output.ReadLine() is { } line) last.Add(JsonNode.Parse(line)!.AsObject());
        Assert.Contains(last, m => m.ToJsonString() == "{\"return\":{}}");
        Assert.Contains(last, m => (string?)m["event"] == "SHUTDOWN" && (string?)m["data"]!["reason"] == "host-qmp-quit");
        Assert.True(socat.WaitForExit(30_000));
        Assert.Equal(0, vm.WaitForExit(TimeSpan.FromSeconds(30)).ExitCode);
    }

    private static JsonObject Next(StreamReader output)
    {
        var read = output.ReadLineAsync();
        Assert.True(read.Wait(TimeSpan.FromSeconds(30)), "no line from socat in 30 s");
        Assert.NotNull(read.Result);
        return JsonNode.Parse(read.Result!)!.AsObject();
    }

    private static void WaitForSocket(string path, HostSimProcess vm)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.False(vm.HasExited, "hostsim exited before listening");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no QMP socket in 30 s");
            Thread.Sleep(50);
        }
    }

    public void Dispose() => _files.Dispose();
}
