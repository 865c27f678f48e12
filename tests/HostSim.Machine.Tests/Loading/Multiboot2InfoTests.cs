using System.Text;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>
/// The multiboot2 boot information (Multiboot2 specification 1.0, section 3.6) read back from
/// guest memory field by field: fixed part, then 8-byte aligned tags each with type and size,
/// ending with the type-0 tag of size 8.
/// </summary>
public sealed class Multiboot2InfoTests
{
    private const string CommandLine = "console=ttyS0 heki.selftest=all";
    private const ulong ModuleAStart = 0x105000;                     // first page after ImageEnd 0x104F10
    private const ulong ModuleBStart = 0x107000;                     // first page after A (0x105000 + 5000 = 0x106388)
    private const ulong InfoAt = 0x108000;                           // first page after B (0x107003)

    [Fact]
    public void Entry_registers_follow_the_spec_eax_magic_ebx_info_address()
    {
        using var r = new LoadRig(LoadRig.Multiboot2Image());
        Assert.Equal(BootProtocol.Multiboot2, r.Kernel.Protocol);
        Assert.Equal(0x36D76289u, r.Kernel.Eax);
        Assert.Equal(LoadRig.TextAt + 24, r.Kernel.EntryPoint);
        Assert.Equal(r.Kernel.BootInfoAddress, (ulong)r.Kernel.Ebx);
        Assert.Equal(0x105000UL, r.Kernel.BootInfoAddress);         // no modules: first page after the image
    }

    [Fact]
    public void Tags_command_line_loader_name_modules_meminfo_memory_map_end_are_laid_out_as_the_spec_says()
    {
        using var r = new LoadRig(LoadRig.Multiboot2Image(), CommandLine, [LoadRig.ModuleA, LoadRig.ModuleB]);
        var g = r.Bytes;
        ulong info = r.Kernel.Ebx;
        Assert.Equal(InfoAt, info);
        Assert.Equal(0UL, info % 8);

        uint totalSize = g.U32(info);
        Assert.Equal(0u, g.U32(info + 4));                           // reserved
        var tags = Walk(g, info, totalSize);
        Assert.Equal([1u, 2u, 3u, 3u, 4u, 6u, 0u], tags.Select(t => t.Type));

        // type 1: boot command line, a NUL-terminated string right after the 8-byte header
        var cmd = tags[0];
        Assert.Equal((uint)(8 + CommandLine.Length + 1), cmd.Size);
        Assert.Equal(CommandLine, g.CString(cmd.At + 8));

        // type 2: boot loader name
        var name = tags[1];
        string loader = g.CString(name.At + 8);
        Assert.NotEmpty(loader);
        Assert.Equal((uint)(8 + loader.Length + 1), name.Size);

        // type 3: modules, mod_start / mod_end (exclusive) then the module's string
        AssertModuleTag(g, tags[2], ModuleAStart, ModuleAStart + 5000, "initrd root=/dev/ram");
        AssertModuleTag(g, tags[3], ModuleBStart, ModuleBStart + 3, "b");

        // type 4: basic memory information in KiB: lower memory from 0, upper memory from 1 MiB
        var mem = tags[4];
        Assert.Equal(16u, mem.Size);
        Assert.Equal(640u, g.U32(mem.At + 8));
        Assert.Equal((uint)((LoadRig.DefaultMemory - 0x100000) / 1024), g.U32(mem.At + 12));

        // type 6: memory map, entry_size 24, entry_version 0, then base_addr/length/type/reserved
        var mmap = tags[5];
        (ulong Base, ulong Length, uint Type)[] expected =
        [
            (0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (0x100000, LoadRig.DefaultMemory - 0x100000, 1),
        ];
        Assert.Equal((uint)(16 + 24 * expected.Length), mmap.Size);
        Assert.Equal(24u, g.U32(mmap.At + 8));
        Assert.Equal(0u, g.U32(mmap.At + 12));
        for (int i = 0; i < expected.Length; i++)
        {
            ulong e = mmap.At + 16 + (ulong)i * 24;
            Assert.Equal(expected[i], (g.U64(e), g.U64(e + 8), g.U32(e + 16)));
            Assert.Equal(0u, g.U32(e + 20));
        }
        Assert.Equal(expected, MemoryMapEntry.PcLayout(LoadRig.DefaultMemory).Select(m => (m.Base, m.Length, m.Type)));

        // type 0: end tag of size 8, and total_size covers exactly up to its end
        var end = tags[6];
        Assert.Equal(8u, end.Size);
        Assert.Equal(info + totalSize, end.At + 8);
    }

    [Fact]
    public void Empty_command_line_is_a_lone_nul_and_the_next_tag_is_padded_to_8_bytes()
    {
        using var r = new LoadRig(LoadRig.Multiboot2Image(), "");
        var g = r.Bytes;
        ulong info = r.Kernel.Ebx;
        var tags = Walk(g, info, g.U32(info));
        Assert.Equal([1u, 2u, 4u, 6u, 0u], tags.Select(t => t.Type));
        Assert.Equal(9u, tags[0].Size);
        Assert.Equal(0, g.Bytes(info + 16, 1)[0]);
        Assert.Equal(info + 24, tags[1].At);
    }

    [Fact]
    public void Command_line_and_module_strings_are_utf8_and_tag_sizes_count_bytes()
    {
        const string cmd = "root=/dev/sda1 label=Grüße", module = "größe";
        using var r = new LoadRig(LoadRig.Multiboot2Image(), cmd, [new ModuleSpec([7], module)]);
        var g = r.Bytes;
        ulong info = r.Kernel.Ebx;
        var tags = Walk(g, info, g.U32(info));
        byte[] cmdBytes = Encoding.UTF8.GetBytes(cmd), moduleBytes = Encoding.UTF8.GetBytes(module);
        Assert.Equal((uint)(8 + cmdBytes.Length + 1), tags[0].Size);
        Assert.Equal([.. cmdBytes, 0], g.Bytes(tags[0].At + 8, cmdBytes.Length + 1));
        var mod = tags.Single(t => t.Type == 3);
        Assert.Equal((uint)(16 + moduleBytes.Length + 1), mod.Size);
        Assert.Equal([.. moduleBytes, 0], g.Bytes(mod.At + 16, moduleBytes.Length + 1));
    }

    /// <summary>The whole block for the smallest input, as the spec lays it out, word by word.</summary>
    [Fact]
    public void Build_produces_exactly_the_spec_layout_for_a_minimal_machine()
    {
        byte[] info = Multiboot2Info.Build("", [], [new MemoryMapEntry(0, 0x9FC00, MemoryMapEntry.Usable)], 2 << 20);
        byte[] loaderName = [.. "HekiGuest hostsim"u8, 0];
        var expected = new List<byte>();
        expected.AddRange(ElfImageBuilder.Words(120, 0));                              // total_size, reserved
        expected.AddRange(ElfImageBuilder.Words(1, 9)); expected.AddRange(new byte[8]); // cmdline "", padded to 24
        expected.AddRange(ElfImageBuilder.Words(2, 8 + 18)); expected.AddRange(loaderName);
        expected.AddRange(new byte[6]);                                                 // 50 -> 56
        expected.AddRange(ElfImageBuilder.Words(4, 16, 640, 1024));                     // basic meminfo: 2 MiB
        expected.AddRange(ElfImageBuilder.Words(6, 40, 24, 0, 0, 0, 0x9FC00, 0, 1, 0)); // memory map, one entry
        expected.AddRange(ElfImageBuilder.Words(0, 8));                                 // end
        Assert.Equal(Convert.ToHexString([.. expected]), Convert.ToHexString(info));
    }

    private static void AssertModuleTag(GuestBytes g, (ulong At, uint Type, uint Size) tag, ulong start, ulong end, string text)
    {
        Assert.Equal((uint)(16 + text.Length + 1), tag.Size);
        Assert.Equal((uint)start, g.U32(tag.At + 8));
        Assert.Equal((uint)end, g.U32(tag.At + 12));
        Assert.Equal(text, g.CString(tag.At + 16));
    }

    /// <summary>Follows the tags as a kernel does, checking 8-byte alignment and that every tag
    /// stays inside total_size.</summary>
    private static List<(ulong At, uint Type, uint Size)> Walk(GuestBytes g, ulong info, uint totalSize)
    {
        var tags = new List<(ulong, uint, uint)>();
        ulong at = info + 8;
        while (true)
        {
            Assert.Equal(0UL, at % 8);
            uint type = g.U32(at), size = g.U32(at + 4);
            Assert.True(size >= 8, $"tag {type} at 0x{at:x} has size {size}");
            Assert.True(at + size <= info + totalSize, $"tag {type} at 0x{at:x} runs past total_size");
            tags.Add((at, type, size));
            if (type == 0) return tags;
            Assert.True(tags.Count < 64, "no end tag");
            at = (at + size + 7) & ~7UL;
        }
    }
}
