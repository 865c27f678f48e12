using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>The PC memory map every boot protocol hands the kernel.</summary>
public sealed class MemoryMapEntryTests
{
    [Fact]
    public void Pc_layout_is_low_ram_ebda_bios_then_ram_from_1_MiB_to_the_top()
    {
        Assert.Equal(
            [
                new MemoryMapEntry(0, 0x9FC00, MemoryMapEntry.Usable),
                new MemoryMapEntry(0x9FC00, 0x400, MemoryMapEntry.Reserved),
                new MemoryMapEntry(0xF0000, 0x10000, MemoryMapEntry.Reserved),
                new MemoryMapEntry(0x100000, (128UL << 20) - 0x100000, MemoryMapEntry.Usable),
            ],
            MemoryMapEntry.PcLayout(128UL << 20));
    }

    [Theory]
    [InlineData(2UL << 20)]
    [InlineData(8UL << 20)]
    [InlineData(3UL << 30)]
    public void Entries_are_sorted_disjoint_and_usable_ram_ends_at_the_memory_size(ulong size)
    {
        var map = MemoryMapEntry.PcLayout(size);
        for (int i = 1; i < map.Length; i++) Assert.True(map[i - 1].Base + map[i - 1].Length <= map[i].Base);
        Assert.Equal(size, map[^1].Base + map[^1].Length);
        Assert.Equal(MemoryMapEntry.Usable, map[^1].Type);
        Assert.Equal(1u, MemoryMapEntry.Usable);                        // E820 type numbers
        Assert.Equal(2u, MemoryMapEntry.Reserved);
        // Nothing in 640 KiB - 1 MiB is usable.
        Assert.DoesNotContain(map, e => e.Type == MemoryMapEntry.Usable && e.Base < 0x100000 && e.Base + e.Length > 0x9FC00);
    }
}
