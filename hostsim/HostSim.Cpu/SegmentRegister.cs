namespace HekiGuest.HostSim.Cpu;

/// <summary>A segment register with its hidden descriptor cache.</summary>
public struct SegmentRegister
{
    public ushort Selector;
    public ulong Base;
    public uint Limit;

    /// <summary>Descriptor attribute bits 40..55 of the descriptor (type, S, DPL, P, AVL, L, D/B, G), bits 0..15 here.</summary>
    public ushort Attributes;

    public readonly bool Long => (Attributes & 0x2000) != 0;

    public readonly bool DefaultBig => (Attributes & 0x4000) != 0;

    public readonly int Dpl => (Attributes >> 5) & 3;

    public readonly bool Present => (Attributes & 0x80) != 0;

    public static SegmentRegister FromDescriptor(ushort selector, ulong descriptor)
    {
        ulong baseAddr = ((descriptor >> 16) & 0xFFFFFF) | (((descriptor >> 56) & 0xFF) << 24);
        uint limit = (uint)((descriptor & 0xFFFF) | (((descriptor >> 48) & 0xF) << 16));
        ushort attrs = (ushort)(((descriptor >> 40) & 0xFF) | (((descriptor >> 52) & 0xF) << 12));
        if ((attrs & 0x8000) != 0)
        {
            limit = (limit << 12) | 0xFFF;
        }
        return new SegmentRegister { Selector = selector, Base = baseAddr, Limit = limit, Attributes = attrs };
    }

    public override readonly string ToString() => $"sel=0x{Selector:x4} base=0x{Base:x} limit=0x{Limit:x} attr=0x{Attributes:x4}";
}
