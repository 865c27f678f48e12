using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HekiGuest.HostSim.Gdb.Tests.Support;

namespace HekiGuest.HostSim.Gdb.Tests;

/// <summary>The TCP side: acks, a bad checksum, a retransmit, Ctrl-C, no-ack mode; the CLI's errors.</summary>
public sealed class GdbServerTests
{
    private static string ReadSome(Socket s, int atLeast)
    {
        var sb = new StringBuilder();
        var buffer = new byte[4096];
        s.ReceiveTimeout = 20000;
        while (sb.Length < atLeast)
        {
            int n = s.Receive(buffer);
            if (n == 0) break;
            sb.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        return sb.ToString();
    }

    [Fact]
    public void Acks_bad_checksums_retransmits_ctrl_c_and_no_ack_mode_over_tcp()
    {
        using var rig = new StubRig(iterations: long.MaxValue);
        rig.Stub.ClientGone(rig.Channel);
        using var server = new GdbServer(new GdbEndpoint(IPAddress.Loopback, 0));
        server.Start(rig.Stub);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(IPAddress.Loopback, server.Port);
        s.Send(Encoding.Latin1.GetBytes("$?#40"));        // bad checksum ('?' is 0x3f)
        Assert.Equal("-", ReadSome(s, 1));
        s.Send(Encoding.Latin1.GetBytes("$?#3f"));
        string reply = ReadSome(s, 1 + "$T05thread:01;#07".Length);
        Assert.StartsWith("+$T05thread:01;#", reply);
        s.Send(Encoding.Latin1.GetBytes("-"));           // damaged on the way: send it again
        Assert.StartsWith("$T05thread:01;#", ReadSome(s, "$T05thread:01;#07".Length));
        s.Send(RspCodec.Frame("QStartNoAckMode"));
        Assert.Equal("+$OK#9a", ReadSome(s, 7));
        s.Send(Encoding.Latin1.GetBytes("+"));
        s.Send(RspCodec.Frame("c"));
        Thread.Sleep(100);
        s.Send([0x03]);
        Assert.Equal("$T02thread:01;#", ReadSome(s, "$T02thread:01;#xx".Length)[..15]);
        s.Send(RspCodec.Frame("k"));
        Assert.Equal(Machine.Execution.MachineStopKind.HostQuit, rig.WaitForEnd().Kind);
    }

    [Fact]
    public void A_port_in_use_cannot_be_bound()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        Assert.Throws<SocketException>(() => new GdbServer(new GdbEndpoint(IPAddress.Loopback, port)));
    }

    [Theory]
    [InlineData("tcp::1234", "127.0.0.1", 1234)]
    [InlineData("tcp:localhost:0", "127.0.0.1", 0)]
    [InlineData("tcp:0.0.0.0:9", "0.0.0.0", 9)]
    public void Endpoints_parse_as_qemu_spells_them(string text, string address, int port)
    {
        var e = GdbEndpoint.Parse(text);
        Assert.Equal(IPAddress.Parse(address), e.Address);
        Assert.Equal(port, e.Port);
    }

    [Theory]
    [InlineData("1234")]
    [InlineData("tcp::70000")]
    [InlineData("tcp:nohost:12")]
    [InlineData("unix:/tmp/x")]
    public void Bad_endpoints_are_refused(string text) => Assert.Throws<FormatException>(() => GdbEndpoint.Parse(text));

    [Fact]
    public void The_cli_gives_one_line_and_exit_code_75_for_a_port_in_use_and_2_for_bad_options()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string kernel = Path.Combine(Path.GetTempPath(), $"gdbtest-{Guid.NewGuid():n}.elf");
        File.WriteAllBytes(kernel, [0x7F, 0x45, 0x4C, 0x46]);
        try
        {
            var (code, err) = Hostsim("run", kernel, "--gdb", $"tcp::{port}");
            Assert.Equal(75, code);
            Assert.Equal($"hostsim: error: --gdb tcp:127.0.0.1:{port}: cannot listen: Address already in use", err.Trim());
            (code, err) = Hostsim("run", kernel, "--gdb", "tcp::notaport");
            Assert.Equal(2, code);
            Assert.Single(err.Trim().Split('\n'));
            (code, err) = Hostsim("run", kernel, "--gdb-wait");
            Assert.Equal(2, code);
            Assert.Contains("--gdb-wait needs --gdb", err);
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    private static (int Code, string Stderr) Hostsim(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hostsim.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60000));
        return (p.ExitCode, err.Result);
    }
}
