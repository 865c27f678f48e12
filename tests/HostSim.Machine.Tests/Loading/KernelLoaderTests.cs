using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>What the loader puts where: segments at their physical addresses with .bss zeroed,
/// modules page-aligned after the image, the boot protocol chosen from the image's headers.</summary>
public sealed class KernelLoaderTests
{
    [Fact]
    public void Segments_are_copied_to_their_physical_addresses_and_bss_is_zeroed()
    {
        using var r = new LoadRig(LoadRig.Multiboot2Image());
        var text = LoadRig.Text(ElfImageBuilder.Multiboot2Header());
        Assert.Equal(text, r.Bytes.Bytes(LoadRig.TextAt, text.Length));
        Assert.Equal(LoadRig.Data, r.Bytes.Bytes(LoadRig.DataAt, LoadRig.Data.Length));
        int bss = (int)LoadRig.DataMemorySize - LoadRig.Data.Length;
        Assert.All(r.Bytes.Bytes(LoadRig.DataAt + (ulong)LoadRig.Data.Length, bss), b => Assert.Equal(0, b));
        // Nothing outside the segments is written: the gap between text and data, the byte after .bss.
        Assert.Equal(0xCC, r.Bytes.Bytes(LoadRig.TextAt + (ulong)text.Length, 1)[0]);
        Assert.Equal(0xCC, r.Bytes.Bytes(LoadRig.DataAt - 1, 1)[0]);
        Assert.Equal(0xCC, r.Bytes.Bytes(LoadRig.ImageEnd, 1)[0]);
        Assert.Equal(LoadRig.TextAt, r.Kernel.ImageStart);
        Assert.Equal(LoadRig.ImageEnd, r.Kernel.ImageEnd);
    }

    [Theory]
    [InlineData(BootProtocol.Multiboot2)]
    [InlineData(BootProtocol.Pvh)]
    [InlineData(BootProtocol.Multiboot1)]
    public void Modules_are_page_aligned_after_the_image_with_their_bytes_intact_and_boot_info_follows(BootProtocol protocol)
    {
        byte[] image = protocol switch
        {
            BootProtocol.Multiboot2 => LoadRig.Multiboot2Image(),
            BootProtocol.Pvh => LoadRig.PvhImage(),
            _ => LoadRig.Multiboot1Image(),
        };
        var big = new ModuleSpec(LoadRig.Pattern(0x3001, 5), "big");
        using var r = new LoadRig(image, "", [LoadRig.ModuleA, big, LoadRig.ModuleB]);
        Assert.Equal(protocol, r.Kernel.Protocol);
        (ulong Start, ulong End)[] expected =
        [
            (0x105000, 0x105000 + 5000),          // image ends at 0x104F10
            (0x107000, 0x107000 + 0x3001),        // A ends at 0x106388
            (0x10B000, 0x10B003),                 // big ends at 0x10A001
        ];
        Assert.Equal(expected, r.Kernel.Modules);
        Assert.Equal(LoadRig.ModuleA.Contents, r.Bytes.Bytes(0x105000, 5000));
        Assert.Equal(big.Contents, r.Bytes.Bytes(0x107000, 0x3001));
        Assert.Equal(LoadRig.ModuleB.Contents, r.Bytes.Bytes(0x10B000, 3));
        Assert.Equal(0x10C000UL, r.Kernel.BootInfoAddress);
    }

    [Fact]
    public void Auto_prefers_multiboot2_then_pvh_then_multiboot1()
    {
        using (var r = new LoadRig(LoadRig.Multiboot2Image(withPvhNote: true))) Assert.Equal(BootProtocol.Multiboot2, r.Kernel.Protocol);
        using (var r = new LoadRig(LoadRig.PvhImage())) Assert.Equal(BootProtocol.Pvh, r.Kernel.Protocol);
        using (var r = new LoadRig(LoadRig.Multiboot1Image())) Assert.Equal(BootProtocol.Multiboot1, r.Kernel.Protocol);
    }

    [Fact]
    public void A_kernel_linked_at_a_virtual_address_is_entered_at_the_physical_address_of_e_entry()
    {
        const ulong virtualBase = 0xFFFF_FFFF_8010_0000;
        var image = new ElfImageBuilder(elf64: true) { Entry = virtualBase + 0x18 }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()), virtualAddress: virtualBase)
            .Build();
        using var r = new LoadRig(image);
        Assert.Equal(0x100018u, r.Kernel.EntryPoint);
    }

    [Fact]
    public void Multiboot2_header_is_found_only_in_the_first_32_KiB_and_with_a_valid_checksum()
    {
        static byte[] At(int offset, byte[] header)
        {
            var image = new byte[0x10000];
            header.CopyTo(image, offset);
            return image;
        }
        Assert.Equal(0x7000, KernelLoader.FindMultiboot2Header(At(0x7000, ElfImageBuilder.Multiboot2Header())));
        Assert.Equal(-1, KernelLoader.FindMultiboot2Header(At(0x8000, ElfImageBuilder.Multiboot2Header())));
        Assert.Equal(-1, KernelLoader.FindMultiboot2Header(At(0x7004, ElfImageBuilder.Multiboot2Header())));   // not 8-aligned
        Assert.Equal(-1, KernelLoader.FindMultiboot2Header(At(0x100, ElfImageBuilder.Multiboot2Header(checksumAdjust: 1))));
        var mips = ElfImageBuilder.Words(0xE85250D6, 4, 16, unchecked(0u - (0xE85250D6 + 4 + 16)));
        Assert.Equal(-1, KernelLoader.FindMultiboot2Header(At(0x100, mips)));                                // architecture 4
    }

    [Fact]
    public void Multiboot1_header_is_found_only_in_the_first_8_KiB_4_byte_aligned_with_a_valid_checksum()
    {
        static byte[] At(int offset, byte[] header)
        {
            var image = new byte[0x4000];
            header.CopyTo(image, offset);
            return image;
        }
        Assert.Equal(0x1FF4, KernelLoader.FindMultiboot1Header(At(0x1FF4, ElfImageBuilder.Multiboot1Header(3))));
        Assert.Equal(-1, KernelLoader.FindMultiboot1Header(At(0x2000, ElfImageBuilder.Multiboot1Header(3))));
        Assert.Equal(-1, KernelLoader.FindMultiboot1Header(At(0x102, ElfImageBuilder.Multiboot1Header(3))));
        var bad = ElfImageBuilder.Multiboot1Header(3);
        bad[8] ^= 1;
        Assert.Equal(-1, KernelLoader.FindMultiboot1Header(At(0x100, bad)));
    }

    [Fact]
    public void A_module_that_would_cross_the_legacy_hole_is_placed_above_1_MiB()
    {
        // A kernel loaded low (below 640 KiB): small modules follow it, a big one must not land in
        // 0x9FC00-0x100000 (EBDA, VGA, ROMs: reserved in the memory map the kernel is given).
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x10018 }
            .Load(0x10000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()))
            .Build();
        var small = new ModuleSpec(LoadRig.Pattern(100, 1), "small");
        var big = new ModuleSpec(LoadRig.Pattern(0x90000, 2), "big");
        using var r = new LoadRig(image, "", [small, big]);
        Assert.Equal(0x11000UL, r.Kernel.Modules[0].Start);
        Assert.Equal(0x100000UL, r.Kernel.Modules[1].Start);
        Assert.Equal(big.Contents, r.Bytes.Bytes(0x100000, big.Contents.Length));
        Assert.All(r.Bytes.Bytes(0x9FC00, 0x60400), b => Assert.Equal(0xCC, b));
        Assert.Equal(0x190000UL, r.Kernel.BootInfoAddress);
    }

    [Fact]
    public void Loading_into_a_machine_the_size_of_the_image_fits_exactly()
    {
        // Segment up to the last byte of RAM is fine; the boot information then does not fit.
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x100018 }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()), memorySize: 0x100000)
            .Build();
        using var memory = new PhysicalMemory(2 << 20);
        var e = Assert.Throws<LoadError>(() => KernelLoader.Load(image, memory, "", []));
        Assert.Contains("boot information does not fit", e.Message);
    }
}
