namespace HekiGuest.HostSim.Gdb;

/// <summary>One unit read from gdb; <see cref="Payload"/> only for <see cref="RspFrameKind.Packet"/>.</summary>
public readonly record struct RspFrame(RspFrameKind Kind, string Payload = "");
