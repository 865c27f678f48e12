namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>A boot module: its bytes and the string the loader passes with it.</summary>
public sealed record ModuleSpec(byte[] Contents, string CommandLine);
