using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>Bad input to the loader is a <see cref="LoadError"/> whose one-line message says what is wrong.</summary>
public sealed class LoadErrorTests
{
    private static LoadError Fails(byte[] image, BootProtocol protocol = BootProtocol.Auto, ulong memory = 8 << 20,
        IReadOnlyList<ModuleSpec>? modules = null)
    {
        using var ram = new PhysicalMemory(memory);
        var e = Assert.Throws<LoadError>(() => KernelLoader.Load(image, ram, "", modules ?? [], protocol));
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void Not_an_elf()
    {
        Assert.Contains("not an ELF", Fails("#!/bin/sh\necho this is no kernel\n"u8.ToArray()).Message);
    }

    [Fact]
    public void Truncated_elf()
    {
        var image = LoadRig.Multiboot2Image()[..40];
        Assert.StartsWith("kernel image:", Fails(image).Message);
    }

    [Fact]
    public void Elf_without_any_boot_header_or_note()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x100000 }.Load(0x100000, LoadRig.Text([])).Build();
        Assert.Equal("kernel image has no multiboot2 header, no PVH note and no multiboot1 header", Fails(image).Message);
    }

    [Fact]
    public void Elf64_with_only_a_multiboot1_header_is_not_taken_for_one_without_any_header()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x10000C }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot1Header())).Build();
        string message = Fails(image).Message;
        Assert.Contains("ELF64", message);
        Assert.Contains("multiboot1", message);
    }

    [Theory]
    [InlineData(BootProtocol.Multiboot2, "no multiboot2 header")]
    [InlineData(BootProtocol.Multiboot1, "no multiboot1 header")]
    public void Forcing_a_protocol_the_pvh_image_lacks(BootProtocol protocol, string expected)
    {
        Assert.Contains(expected, Fails(LoadRig.PvhImage(), protocol).Message);
    }

    [Fact]
    public void Forcing_pvh_on_an_image_without_the_note()
    {
        Assert.Contains("no PVH entry note", Fails(LoadRig.Multiboot2Image(), BootProtocol.Pvh).Message);
    }

    [Theory]
    [InlineData(0x9F000UL, 0x1000UL)]        // ends inside the EBDA
    [InlineData(0xA0000UL, 0x100UL)]         // VGA memory
    [InlineData(0xFF000UL, 0x2000UL)]        // BIOS, running on into 1 MiB
    [InlineData(0x90000UL, 0x80000UL)]       // straddles the whole hole
    public void Segment_overlapping_the_legacy_hole(ulong at, ulong size)
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = at }
            .Load(at, LoadRig.Text(ElfImageBuilder.Multiboot2Header()), memorySize: size).Build();
        Assert.Contains("legacy hole", Fails(image).Message);
    }

    [Fact]
    public void Segment_just_below_the_hole_is_fine()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x9E000 }
            .Load(0x9E000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()), memorySize: 0x1C00).Build();
        using var r = new LoadRig(image);
        Assert.Equal(0x9FC00UL, r.Kernel.ImageEnd);
        Assert.Equal(0x100000UL, r.Kernel.BootInfoAddress);           // not in the hole right after it
    }

    [Fact]
    public void Image_larger_than_guest_memory()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x100018 }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()), memorySize: 0x100001).Build();
        var e = Fails(image, memory: 2 << 20);
        Assert.Contains("does not fit in guest memory", e.Message);
        Assert.Contains("2 MiB", e.Message);
    }

    [Fact]
    public void Segment_whose_end_wraps_around()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x100018 }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot2Header()))
            .Load(0xFFFF_FFFF_FFFF_F000, [1, 2, 3], memorySize: 0x2000)
            .Build();
        Assert.Contains("does not fit in guest memory", Fails(image).Message);
    }

    [Fact]
    public void Modules_that_do_not_fit()
    {
        var module = new ModuleSpec(new byte[0x100000], "too big");
        var e = Fails(LoadRig.Multiboot2Image(), memory: 2 << 20, modules: [module]);
        Assert.Contains("modules do not fit", e.Message);
    }

    [Fact]
    public void Entry_point_above_4_GiB_that_no_segment_maps()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0xFFFF_FFFF_8000_0000 }
            .Load(0x100000, LoadRig.Text(ElfImageBuilder.Multiboot2Header())).Build();
        Assert.Contains("not a 32-bit physical address", Fails(image).Message);
    }

    [Fact]
    public void Elf_without_loadable_segments()
    {
        var image = new ElfImageBuilder(elf64: true) { Entry = 0x100000 }.PvhNote(0x100000).Build();
        Assert.Contains("no loadable segment", Fails(image).Message);
    }
}
