using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>
/// PVH boot (Xen public/arch-x86/hvm/start_info.h, docs/misc/pvh.pandoc): the entry point comes
/// from the XEN_ELFNOTE_PHYS32_ENTRY note, EBX holds the physical address of hvm_start_info
/// (version 1, 56 bytes), which points at hvm_modlist_entry (32 bytes each), the command line and
/// hvm_memmap_table_entry (24 bytes each).
/// </summary>
public sealed class PvhStartInfoTests
{
    private const string CommandLine = "console=hvc0 quiet";

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Entry_comes_from_the_phys32_entry_note_not_e_entry(int descriptorBytes)
    {
        using var r = new LoadRig(LoadRig.PvhImage(0x100040, descriptorBytes));
        Assert.Equal(BootProtocol.Pvh, r.Kernel.Protocol);
        Assert.Equal(0x100040u, r.Kernel.EntryPoint);
        Assert.Equal(r.Kernel.BootInfoAddress, (ulong)r.Kernel.Ebx);
        Assert.Equal(0x336EC578u, r.Bytes.U32(r.Kernel.Ebx));
    }

    [Fact]
    public void Start_info_fields_modules_command_line_and_memory_map_match_the_spec()
    {
        using var r = new LoadRig(LoadRig.PvhImage(), CommandLine, [LoadRig.ModuleA, LoadRig.ModuleB]);
        var g = r.Bytes;
        ulong si = r.Kernel.Ebx;
        Assert.Equal(0x108000UL, si);                                // after the image and both modules

        Assert.Equal(0x336EC578u, g.U32(si + 0));                    // magic
        Assert.Equal(1u, g.U32(si + 4));                             // version 1: memmap fields present
        Assert.Equal(0u, g.U32(si + 8));                             // flags
        Assert.Equal(2u, g.U32(si + 12));                            // nr_modules
        ulong modlist = g.U64(si + 16);
        ulong cmdline = g.U64(si + 24);
        Assert.Equal(0UL, g.U64(si + 32));                           // rsdp_paddr: no ACPI
        ulong memmap = g.U64(si + 40);
        Assert.Equal(4u, g.U32(si + 48));                            // memmap_entries
        Assert.Equal(0u, g.U32(si + 52));                            // reserved

        Assert.Equal(CommandLine, g.CString(cmdline));

        Assert.Equal(0UL, modlist % 8);
        AssertModule(g, modlist, 0x105000, 5000, "initrd root=/dev/ram");
        AssertModule(g, modlist + 32, 0x107000, 3, "b");
        Assert.Equal(LoadRig.ModuleA.Contents, g.Bytes(0x105000, 5000));
        Assert.Equal(LoadRig.ModuleB.Contents, g.Bytes(0x107000, 3));

        Assert.Equal(0UL, memmap % 8);
        (ulong Addr, ulong Size, uint Type)[] expected =
            [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (0x100000, LoadRig.DefaultMemory - 0x100000, 1)];
        for (int i = 0; i < expected.Length; i++)
        {
            ulong e = memmap + (ulong)i * 24;
            Assert.Equal(expected[i], (g.U64(e), g.U64(e + 8), g.U32(e + 16)));
            Assert.Equal(0u, g.U32(e + 20));                         // reserved, zero in version 1
        }

        // Everything the structure points at lies after it, in RAM no module or image uses.
        foreach (ulong p in new[] { modlist, cmdline, memmap })
        {
            Assert.InRange(p, si + 56, LoadRig.DefaultMemory - 1);
        }
    }

    [Fact]
    public void Without_modules_nr_modules_is_zero()
    {
        using var r = new LoadRig(LoadRig.PvhImage(), "x");
        Assert.Equal(0x105000UL, r.Kernel.BootInfoAddress);
        Assert.Equal(0u, r.Bytes.U32(r.Kernel.Ebx + 12));
        Assert.Equal("x", r.Bytes.CString(r.Bytes.U64(r.Kernel.Ebx + 24)));
    }

    [Fact]
    public void Pvh_can_be_forced_on_an_image_that_also_has_a_multiboot2_header()
    {
        using var auto = new LoadRig(LoadRig.Multiboot2Image(withPvhNote: true));
        Assert.Equal(BootProtocol.Multiboot2, auto.Kernel.Protocol);
        using var pvh = new LoadRig(LoadRig.Multiboot2Image(withPvhNote: true), protocol: BootProtocol.Pvh);
        Assert.Equal(BootProtocol.Pvh, pvh.Kernel.Protocol);
        Assert.Equal((uint)LoadRig.TextAt + 0x40, pvh.Kernel.EntryPoint);
        Assert.Equal(0x336EC578u, pvh.Bytes.U32(pvh.Kernel.Ebx));
    }

    private static void AssertModule(GuestBytes g, ulong entry, ulong paddr, ulong size, string text)
    {
        Assert.Equal(paddr, g.U64(entry));
        Assert.Equal(size, g.U64(entry + 8));
        Assert.Equal(text, g.CString(g.U64(entry + 16)));
        Assert.Equal(0UL, g.U64(entry + 24));
    }
}
