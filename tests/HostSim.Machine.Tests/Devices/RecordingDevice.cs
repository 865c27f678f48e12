using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>A port device that logs every access and answers reads with a fixed value cut to the access size.</summary>
internal sealed class RecordingDevice(ushort basePort, ushort count, uint readValue = 0x5A5A5A5A) : IPortDevice
{
    public ushort Base { get; } = basePort;
    public ushort Count { get; } = count;
    public List<(bool Write, ushort Offset, int Size, uint Value)> Accesses { get; } = [];

    public uint Read(ushort offset, int size)
    {
        Accesses.Add((false, offset, size, 0));
        return size == 1 ? readValue & 0xFF : size == 2 ? readValue & 0xFFFF : readValue;
    }

    public void Write(ushort offset, int size, uint value) => Accesses.Add((true, offset, size, value));
}
