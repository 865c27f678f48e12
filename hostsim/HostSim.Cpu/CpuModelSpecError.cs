namespace HekiGuest.HostSim.Cpu;

/// <summary>A <c>--cpu</c> specification that names no model, an unknown or unimplemented feature,
/// or an incoherent feature set; the message is one line for the user.</summary>
public sealed class CpuModelSpecError(string message) : Exception(message);
