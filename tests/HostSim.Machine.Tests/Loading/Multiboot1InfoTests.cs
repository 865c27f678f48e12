using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>
/// Multiboot (version 1, specification 0.6.96 section 3.3) for ELF32 images: EAX 0x2BADB002,
/// EBX the multiboot_info structure, read back field by field at its spec offsets.
/// </summary>
public sealed class Multiboot1InfoTests
{
    private const string CommandLine = "mb1 cmdline";

    [Fact]
    public void Elf32_image_with_a_multiboot1_header_boots_multiboot1_with_its_e_entry_and_magic()
    {
        using var r = new LoadRig(LoadRig.Multiboot1Image());
        Assert.Equal(BootProtocol.Multiboot1, r.Kernel.Protocol);
        Assert.Equal(0x2BADB002u, r.Kernel.Eax);
        Assert.Equal((uint)LoadRig.TextAt + 12, r.Kernel.EntryPoint);
        Assert.Equal(r.Kernel.BootInfoAddress, (ulong)r.Kernel.Ebx);
    }

    [Fact]
    public void Info_flags_memory_command_line_modules_and_memory_map_are_at_their_spec_offsets()
    {
        using var r = new LoadRig(LoadRig.Multiboot1Image(), CommandLine, [LoadRig.ModuleA, LoadRig.ModuleB]);
        var g = r.Bytes;
        ulong mbi = r.Kernel.Ebx;
        Assert.Equal(0x108000UL, mbi);

        uint flags = g.U32(mbi + 0);
        // mem_* (bit 0), cmdline (2), mods (3), mmap (6) valid; nothing else is claimed.
        Assert.Equal((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6), flags);
        Assert.Equal(640u, g.U32(mbi + 4));                                          // mem_lower KiB
        Assert.Equal((uint)((LoadRig.DefaultMemory - 0x100000) / 1024), g.U32(mbi + 8)); // mem_upper KiB
        Assert.Equal(CommandLine, g.CString(g.U32(mbi + 16)));

        Assert.Equal(2u, g.U32(mbi + 20));                                           // mods_count
        ulong mods = g.U32(mbi + 24);
        AssertModule(g, mods, 0x105000, 0x105000 + 5000, "initrd root=/dev/ram");
        AssertModule(g, mods + 16, 0x107000, 0x107003, "b");
        Assert.Equal(LoadRig.ModuleA.Contents, g.Bytes(0x105000, 5000));

        for (ulong o = 28; o < 44; o += 4) Assert.Equal(0u, g.U32(mbi + o));         // syms: not provided

        // mmap: entries of (size, base_addr, length, type); size excludes itself; next = entry + size + 4.
        uint mmapLength = g.U32(mbi + 44);
        ulong mmap = g.U32(mbi + 48);
        (ulong Base, ulong Length, uint Type)[] expected =
            [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (0x100000, LoadRig.DefaultMemory - 0x100000, 1)];
        var seen = new List<(ulong, ulong, uint)>();
        for (ulong e = mmap; e < mmap + mmapLength; e += g.U32(e) + 4)
        {
            Assert.Equal(20u, g.U32(e));
            seen.Add((g.U64(e + 4), g.U64(e + 12), g.U32(e + 20)));
        }
        Assert.Equal(expected, seen);
        Assert.Equal((uint)(expected.Length * 24), mmapLength);
    }

    [Fact]
    public void No_modules_gives_mods_count_zero()
    {
        using var r = new LoadRig(LoadRig.Multiboot1Image());
        Assert.Equal(0u, r.Bytes.U32(r.Kernel.Ebx + 20));
        Assert.Equal("", r.Bytes.CString(r.Bytes.U32(r.Kernel.Ebx + 16)));
    }

    private static void AssertModule(GuestBytes g, ulong entry, uint start, uint end, string text)
    {
        Assert.Equal(start, g.U32(entry));
        Assert.Equal(end, g.U32(entry + 4));
        Assert.Equal(text, g.CString(g.U32(entry + 8)));
        Assert.Equal(0u, g.U32(entry + 12));
    }
}
