using System.Collections.Concurrent;

namespace HekiGuest.HostSim.Gdb.Tests.Support;

/// <summary>A gdb connection without a socket: what the stub sends is queued for the test.</summary>
internal sealed class RecordingChannel : IRspChannel
{
    public BlockingCollection<string> Sent { get; } = [];

    public bool NoAck { get; set; }

    public void Send(string payload) => Sent.Add(payload);

    public string Next(TimeSpan? timeout = null)
    {
        Assert.True(Sent.TryTake(out var packet, timeout ?? TimeSpan.FromSeconds(20)), "the stub sent nothing in time");
        return packet!;
    }
}
