namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Where the loader put everything and how the CPU must be started.</summary>
public sealed record LoadedKernel(
    BootProtocol Protocol,
    uint EntryPoint,
    uint Eax,
    uint Ebx,
    ulong ImageStart,
    ulong ImageEnd,
    IReadOnlyList<(ulong Start, ulong End)> Modules,
    ulong BootInfoAddress);
