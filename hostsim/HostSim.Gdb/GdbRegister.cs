namespace HekiGuest.HostSim.Gdb;

/// <summary>One register of the target description: its gdb number (its place in the 'g'
/// packet), name, size in bits, the tdesc type and group, and whether gdb may write it.</summary>
public sealed record GdbRegister(int Number, string Name, int Bits, string Type, string Feature, bool Writable, string? Group = null)
{
    public int Bytes => Bits / 8;
}
