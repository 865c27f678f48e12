namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Bad input to the loader (not a kernel, no boot entry, does not fit...): one-line message.</summary>
public sealed class LoadError(string message) : Exception(message);
