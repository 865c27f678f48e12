namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>A device on the I/O port bus, owning the ports [Base, Base + Count).</summary>
public interface IPortDevice
{
    ushort Base { get; }
    ushort Count { get; }
    uint Read(ushort offset, int size);
    void Write(ushort offset, int size, uint value);
}
