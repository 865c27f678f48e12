namespace HekiGuest.HostSim.Gdb;

/// <summary>What the byte stream from gdb delivered.</summary>
public enum RspFrameKind
{
    /// <summary>A packet with a good checksum: acknowledge with '+' and handle it.</summary>
    Packet,

    /// <summary>A packet whose checksum did not match (or was not hex, or too long): answer '-'.</summary>
    BadPacket,

    /// <summary>'+': the last packet sent arrived.</summary>
    Ack,

    /// <summary>'-': the last packet sent arrived damaged; send it again.</summary>
    Nack,

    /// <summary>0x03 outside a packet: gdb's Ctrl-C.</summary>
    Interrupt,
}
