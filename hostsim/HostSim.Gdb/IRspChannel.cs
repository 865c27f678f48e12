namespace HekiGuest.HostSim.Gdb;

/// <summary>Where the stub's packets go: one gdb connection.</summary>
public interface IRspChannel
{
    /// <summary>Frames and sends one packet (kept for a retransmit after '-').</summary>
    void Send(string payload);

    /// <summary>After QStartNoAckMode: no '+'/'-' either way.</summary>
    bool NoAck { get; set; }
}
