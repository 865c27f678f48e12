namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>One E820-style memory map entry (type 1 = usable RAM, 2 = reserved).</summary>
public readonly record struct MemoryMapEntry(ulong Base, ulong Length, uint Type)
{
    public const uint Usable = 1;
    public const uint Reserved = 2;

    /// <summary>The PC layout QEMU reports for a machine with this much RAM (below 4 GiB).</summary>
    public static MemoryMapEntry[] PcLayout(ulong memorySize) =>
    [
        new(0, 0x9FC00, Usable),
        new(0x9FC00, 0x400, Reserved),
        new(0xF0000, 0x10000, Reserved),
        new(0x100000, memorySize - 0x100000, Usable),
    ];
}
