using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// Routes IN/OUT to devices. An unmodelled port reads all ones and ignores writes, like an empty
/// ISA bus, and is reported once through <see cref="UnmodelledAccess"/>.
/// </summary>
public sealed class PortBus : IPortIo
{
    private readonly IPortDevice?[] _byPort = new IPortDevice?[65536];
    private HashSet<ushort>? _reported;   // created on the first unmodelled access (start-up stays JIT-free)

    public event Action<ushort, bool>? UnmodelledAccess;

    public IReadOnlyCollection<ushort> UnmodelledPorts => (IReadOnlyCollection<ushort>?)_reported ?? [];

    /// <summary>Claims the device's ports. All or nothing: a device that would overlap another or
    /// run past port 0xFFFF is rejected and the bus is left as it was.</summary>
    public void Attach(IPortDevice device)
    {
        if (device.Count == 0 || device.Base + device.Count > _byPort.Length)
            throw new ArgumentException($"ports 0x{device.Base:x}+{device.Count} are not a range inside 0x0-0xffff", nameof(device));
        for (int i = 0; i < device.Count; i++)
        {
            int port = device.Base + i;
            if (_byPort[port] is not null) throw new InvalidOperationException($"port 0x{port:x} is already taken");
        }
        for (int i = 0; i < device.Count; i++) _byPort[device.Base + i] = device;
    }

    public uint In(ushort port, int size)
    {
        if (_byPort[port] is { } d) return d.Read((ushort)(port - d.Base), size);
        Report(port, false);
        return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFF_FFFFu;
    }

    public void Out(ushort port, int size, uint value)
    {
        if (_byPort[port] is { } d) { d.Write((ushort)(port - d.Base), size, value); return; }
        Report(port, true);
    }

    private void Report(ushort port, bool write)
    {
        if ((_reported ??= []).Add(port)) UnmodelledAccess?.Invoke(port, write);
    }
}
