using System.Text;
using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>Random JSON-ish bytes (seeded) thrown at the control socket: hostsim answers what it
/// can, never fails, and the next client finds the VM as it was.</summary>
public sealed class QmpGarbageTests : IDisposable
{
    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\n", " ", "\"execute\"", "\"arguments\"", "\"id\"", "\"query-status\"",
        "\"no-such\"", "\"hostsim-set-pins\"", "\"cr\"", "\"high\"", "-1", "1e999", "0x10", "null", "true", "\"\\u0000\"", "\"\\ud800\"",
    ];

    private readonly TempFiles _files = new();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_input_never_takes_the_socket_or_the_vm_down(int seed)
    {
        string socket = _files.Path("qmp.sock");
        var spin = _files.Write("spin.elf", Guests.Spins());
        using var vm = HostSimProcess.Start(spin, "--qmp", $"unix:{socket},server", "--pin", "cr4=0x100000", "--timeout", "100s");
        var random = new Random(seed);
        using (var c = QmpClient.Negotiated(socket, vm))
        {
            var text = new StringBuilder();
            for (int i = 0; i < 3000; i++) text.Append(Tokens[random.Next(Tokens.Length)]);
            var bytes = Encoding.UTF8.GetBytes(text.ToString()).ToList();
            for (int i = 0; i < 50; i++) bytes.Insert(random.Next(bytes.Count), (byte)random.Next(256));   // invalid UTF-8 too
            var all = bytes.ToArray();
            for (int at = 0; at < all.Length; at += 512) c.SendBytes(all.AsSpan(at, Math.Min(512, all.Length - at)));
            // whatever the stream left half-open, the next connection starts afresh
        }
        using (var d = QmpClient.Negotiated(socket, vm))
        {
            var status = d.Execute("query-status", id: "after")["return"]!;
            Assert.Equal("running", (string?)status["status"]);
            Assert.Equal("0x100000", (string?)d.Execute("hostsim-query-pins")["return"]!["cr4"]!["pinned-high"]);
            d.Execute("quit");
        }
        var result = vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
    }

    public void Dispose() => _files.Dispose();
}
