namespace HekiGuest.HostSim.Cpu;

/// <summary>Port I/O (IN/OUT). Size is 1, 2 or 4 bytes.</summary>
public interface IPortIo
{
    uint In(ushort port, int size);

    void Out(ushort port, int size, uint value);
}
