using HekiGuest.HostSim.Cpu;
using static HekiGuest.HostSim.Machine.Tests.Paging.PageTableBuilder;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>
/// Page walks outside the permission table: reserved bits (SDM 4.5), 2 MiB and 1 GiB leaves,
/// non-present entries at each level, physical addresses beyond RAM (#MC), non-canonical linear
/// addresses (#GP) and paging off.
/// </summary>
public sealed class WalkSpecialCaseTests
{
    private static readonly PagingContext Kernel = new(0, Wp: true, Smep: true, Smap: true, Ac: false, Nxe: true);
    private static readonly PagingContext KernelNoNx = Kernel with { Nxe = false };
    private static readonly PagingContext User = Kernel with { Cpl = 3 };

    private const uint ErrP = 1, ErrW = 2, ErrU = 4, ErrRsvd = 8, ErrId = 16;

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    [InlineData(1)]
    public void Not_present_at_each_level_is_a_pf_with_p_clear(int level)
    {
        using var rig = new PagingRig();
        rig.Enter(User);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, AllowAll);
        rig.Tables.Write(EntryAddress(level), rig.Tables.Read(EntryAddress(level)) & ~Present);
        Assert.Equal(PagingVerdict.PageFault(ErrW | ErrU), rig.Translate(Linear, AccessKind.Write));
        Assert.Equal(PagingVerdict.PageFault(ErrU | ErrId), rig.Translate(Linear, AccessKind.Execute));
        rig.Enter(Kernel);
        Assert.Equal(PagingVerdict.PageFault(0), rig.Translate(Linear, AccessKind.Read));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    [InlineData(1)]
    public void Nx_bit_with_efer_nxe_clear_is_a_reserved_bit_fault_at_every_level(int level)
    {
        using var rig = new PagingRig();
        rig.Enter(KernelNoNx);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, AllowAll);
        rig.Tables.Write(EntryAddress(level), rig.Tables.Read(EntryAddress(level)) | NoExecute);
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd), rig.Translate(Linear, AccessKind.Read));
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd | ErrW), rig.Translate(Linear, AccessKind.Write));
        // I/D: SMEP is on in this context, so a fetch reports I/D even with NXE clear.
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd | ErrId), rig.Translate(Linear, AccessKind.Execute));
    }

    [Fact]
    public void Fetch_fault_reports_instruction_fetch_only_with_nxe_or_smep()
    {
        using var rig = new PagingRig();
        var plain = new PagingContext(3, Wp: false, Smep: false, Smap: false, Ac: false, Nxe: false);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, Present | Writable);     // supervisor page
        rig.Enter(plain);
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrU), rig.Translate(Linear, AccessKind.Execute));
        rig.Enter(plain with { Nxe = true });
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrU | ErrId), rig.Translate(Linear, AccessKind.Execute));
        rig.Enter(plain with { Smep = true });
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrU | ErrId), rig.Translate(Linear, AccessKind.Execute));
    }

    [Fact]
    public void Ps_in_a_pml4_entry_is_a_reserved_bit_fault()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map4K(AllowAll | PageSize, AllowAll, AllowAll, AllowAll);
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd | ErrW), rig.Translate(Linear, AccessKind.Write));
    }

    [Fact]
    public void Bit_51_in_an_entry_is_a_reserved_bit_fault()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, AllowAll | (1UL << 51));
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd), rig.Translate(Linear, AccessKind.Read));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(1)]
    public void Address_bit_at_maxphyaddr_from_cpuid_is_a_reserved_bit_fault(int level)
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        Assert.True(rig.MaxPhysAddr < 52);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, Present | Writable);
        rig.Tables.Write(EntryAddress(level), rig.Tables.Read(EntryAddress(level)) | (1UL << rig.MaxPhysAddr));
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd), rig.Translate(Linear, AccessKind.Read));
    }

    [Fact]
    public void Two_mib_page_translates_and_sets_accessed_and_dirty_in_the_pde()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        const ulong frame = 0x20_0000;
        rig.Tables.Map2M(AllowAll, AllowAll, Present | Writable, frame);
        ulong linear = (1UL << 39) | (2UL << 30) | (3UL << 21) | 0x1_2345;
        Assert.Equal(PagingVerdict.Translates(frame + 0x1_2345), rig.Translate(linear, AccessKind.Read));
        Assert.Equal((frame | Present | Writable | PageSize | Accessed), rig.Tables.Read(EntryAddress(2)));
        Assert.Equal(PagingVerdict.Translates(frame + 0x1_2345), rig.Translate(linear, AccessKind.Write));
        Assert.Equal(frame | Present | Writable | PageSize | Accessed | Dirty, rig.Tables.Read(EntryAddress(2)));
        Assert.Equal(Pd | AllowAll | Accessed, rig.Tables.Read(EntryAddress(3)));
        Assert.Equal(Pdpt | AllowAll | Accessed, rig.Tables.Read(EntryAddress(4)));
        // A supervisor-only 2 MiB page refuses CPL 3, with the user bit in the error code.
        rig.Enter(User);
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrU), rig.Translate(linear, AccessKind.Read));
    }

    [Fact]
    public void Two_mib_page_with_the_pat_bit_translates()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map2M(AllowAll, AllowAll, Present | (1UL << 12), 0x20_0000);   // bit 12 is PAT, not address
        ulong linear = (1UL << 39) | (2UL << 30) | (3UL << 21) | 0x80;
        Assert.Equal(PagingVerdict.Translates(0x20_0080), rig.Translate(linear, AccessKind.Read));
    }

    [Fact]
    public void Two_mib_page_with_bits_20_13_set_is_a_reserved_bit_fault()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map2M(AllowAll, AllowAll, Present, 0x20_0000 | 0x2000);          // bit 13
        ulong linear = (1UL << 39) | (2UL << 30) | (3UL << 21);
        Assert.Equal(PagingVerdict.PageFault(ErrP | ErrRsvd), rig.Translate(linear, AccessKind.Read));
    }

    [Fact]
    public void Ps_in_a_pdpte_follows_cpuid_page1gb()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Clear();
        rig.Tables.Write(EntryAddress(4), Pdpt | AllowAll);
        rig.Tables.Write(EntryAddress(3), 0 | Present | Writable | PageSize);        // 1 GiB frame 0, supervisor
        var expected = rig.Page1G ? PagingVerdict.Translates(Linear & 0x3FFF_FFFF) : PagingVerdict.PageFault(ErrP | ErrRsvd);
        Assert.Equal(expected, rig.Translate(Linear, AccessKind.Read));
    }

    [Fact]
    public void Page_beyond_ram_is_a_machine_check()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        const ulong kernelPage = Present | Writable;                  // supervisor page: SMAP is on
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, kernelPage, page: 64UL << 20);
        var v = rig.Translate(Linear, AccessKind.Read);
        Assert.Equal(PagingVerdict.MachineCheck(), v);
        // The last page of RAM itself translates, up to its last byte.
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, kernelPage, page: PagingRig.RamSize - 0x1000);
        Assert.True(rig.Translate(Linear | 0xFFF, AccessKind.Read).Ok);
    }

    [Fact]
    public void Page_table_beyond_ram_is_a_machine_check()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, AllowAll);
        rig.Tables.Write(EntryAddress(2), (32UL << 20) | AllowAll);                  // PT at 32 MiB, RAM is 4 MiB
        Assert.Equal(PagingVerdict.MachineCheck(), rig.Translate(Linear, AccessKind.Read));
    }

    [Fact]
    public void Non_canonical_address_is_a_general_protection_fault()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, AllowAll);
        var v = rig.Translate(Linear | (1UL << 47) | (1UL << 50), AccessKind.Read);
        Assert.Equal(new PagingVerdict(false, 0, 13, 0), v);
    }

    [Fact]
    public void Paging_off_is_identity_and_walks_nothing()
    {
        using var rig = new PagingRig();
        rig.Cpu.EnterFlatProtectedMode();
        long walks = rig.Translator.Walks;
        Assert.Equal(PagingVerdict.Translates(0x12_3456), rig.Translate(0x12_3456, AccessKind.Write));
        Assert.Equal(walks, rig.Translator.Walks);
        Assert.Equal(PagingVerdict.MachineCheck(), rig.Translate(PagingRig.RamSize, AccessKind.Read));
    }

    [Fact]
    public void Accessed_and_dirty_bits_already_set_are_left_alone_and_other_bits_survive()
    {
        using var rig = new PagingRig();
        rig.Enter(Kernel);
        const ulong avail = 0x0E00UL | (0x7FUL << 52);        // software-available bits 9..11, 52..58
        const ulong kernelPage = Present | Writable;                  // supervisor page: SMAP is on
        rig.Tables.Map4K(AllowAll, AllowAll, AllowAll, kernelPage | avail | Accessed | Dirty);
        Assert.True(rig.Translate(Linear, AccessKind.Write).Ok);
        Assert.Equal(Page | kernelPage | avail | Accessed | Dirty, rig.Tables.Read(EntryAddress(1)));
        Assert.Equal(Pt | AllowAll | Accessed, rig.Tables.Read(EntryAddress(2)));
    }
}
