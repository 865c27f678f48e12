using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Vsm.Tests.Support;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 6: EnablePartitionVtl and EnableVpVtl statuses.</summary>
public sealed class VtlEnableTests
{
    private static VsmGuestMachine SetUp()
    {
        var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        return g;
    }

    [Fact]
    public void Enabling_vtl1_for_the_partition_succeeds_once_then_is_already_enabled()
    {
        using var g = SetUp();
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g, flags: HvVtl.EnableMbec));
        Assert.True(g.Host.Partition.IsEnabled(1));
        Assert.True(g.Host.Partition.MbecEnabled(1));
        Assert.Equal(0x86UL, VtlGuest.EnablePartitionVtl(g));
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Theory]
    [InlineData(0UL, 1, 0, 0)]              // partition id 0: not this partition
    [InlineData(0x1234UL, 1, 0, 0)]
    [InlineData(HvCall.PartitionSelf, 0, 0, 0)]   // VTL0
    [InlineData(HvCall.PartitionSelf, 2, 0, 0)]   // above the highest VTL offered
    [InlineData(HvCall.PartitionSelf, 1, 2, 0)]   // a reserved flag
    [InlineData(HvCall.PartitionSelf, 1, 0, 1)]   // a reserved byte
    public void Enable_partition_vtl_with_a_bad_field_is_invalid_parameter(ulong partition, byte vtl, byte flags, byte reserved)
    {
        using var g = SetUp();
        Assert.Equal(5UL, VtlGuest.EnablePartitionVtl(g, partition, vtl, flags, reserved));
        Assert.False(g.Host.Partition.IsEnabled(1));
    }

    [Fact]
    public void Enable_vtl_calls_are_memory_form_only()
    {
        using var g = SetUp();
        Assert.Equal(3UL, g.CallHypercallPage(HvCall.EnablePartitionVtl | 1UL << 16, HvCall.PartitionSelf, 1));
        Assert.Equal(3UL, g.CallHypercallPage(HvCall.EnableVpVtl | 1UL << 32, VsmGuestMachine.InputPage, VsmGuestMachine.OutputPage));
    }

    [Fact]
    public void Enable_vp_vtl_before_the_partition_is_invalid_partition_state()
    {
        using var g = SetUp();
        Assert.Equal(7UL, VtlGuest.EnableVpVtl(g));
        Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
    }

    [Fact]
    public void Enable_vp_vtl_succeeds_once_without_switching_then_is_already_enabled()
    {
        using var g = SetUp();
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        ulong cr3 = g.Cpu.Cr3;
        Assert.Equal(0UL, VtlGuest.EnableVpVtl(g, vp: 0));
        Assert.True(g.Host.Partition.Vps[0].IsEnabled(1));
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(cr3, g.Cpu.Cr3);
        var vtl1 = g.Host.Partition.Vps[0].Saved(1)!;
        Assert.Equal(VtlGuest.Vtl1Code, vtl1.Rip);
        Assert.Equal(VtlGuest.Vtl1StackTop, vtl1.Rsp);
        Assert.Equal(VtlGuest.Vtl1Pml4, vtl1.Cr3);
        Assert.Equal(g.Cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Selector, vtl1.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Selector);
        Assert.Equal(0x86UL, VtlGuest.EnableVpVtl(g));
    }

    public static TheoryData<string, int, ulong> BadContexts => new()
    {
        { "non-canonical rip", HvVtl.VpContextOffset + HvVtl.ContextRip, 0x0000_8000_0000_0000 },
        { "reserved rflags bit", HvVtl.VpContextOffset + HvVtl.ContextRflags, 1UL << 40 },
        { "real mode", HvVtl.VpContextOffset + HvVtl.ContextCr0, 0x10 },
        { "cr0 high bits", HvVtl.VpContextOffset + HvVtl.ContextCr0, 0x1_8000_0011 },
        { "unsupported cr4 bit", HvVtl.VpContextOffset + HvVtl.ContextCr4, 1UL << 30 },
        { "cr3 above physical", HvVtl.VpContextOffset + HvVtl.ContextCr3, 1UL << 60 },
        { "reserved efer bit", HvVtl.VpContextOffset + HvVtl.ContextEfer, 0xD01 | 1UL << 3 },
        { "lma without lme", HvVtl.VpContextOffset + HvVtl.ContextEfer, 0x400 },
        { "bad pat type", HvVtl.VpContextOffset + HvVtl.ContextPat, 0x0007040600070402 },
        { "non-canonical gdtr base", HvVtl.VpContextOffset + HvVtl.ContextGdtr + HvVtl.TableBase, 0x0001_0000_0000_0000 },
        { "idtr pad", HvVtl.VpContextOffset + HvVtl.ContextIdtr, 1 },
        { "non-canonical fs base", HvVtl.VpContextOffset + HvVtl.ContextFs + HvVtl.SegmentBase, 0x8000_0000_0000_0000 },
        { "vp index 1", HvVtl.VpVpIndexOffset, 1 },
        { "target vtl 2", HvVtl.VpTargetVtlOffset, 2 },
        { "reserved after the vtl", HvVtl.VpTargetVtlOffset, 0x100 | 1 },
        { "partition id 0", 0, 0 },
    };

    [Theory]
    [MemberData(nameof(BadContexts))]
    public void Enable_vp_vtl_with_a_bad_field_is_invalid_parameter(string what, int offset, ulong value)
    {
        using var g = SetUp();
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        Assert.True(5UL == VtlGuest.EnableVpVtl(g, edit: b => BinaryPrimitives.WriteUInt64LittleEndian(b[offset..], value)), what);
        Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
    }

    [Fact]
    public void Enable_vp_vtl_with_reserved_segment_attribute_bits_is_invalid_parameter()
    {
        using var g = SetUp();
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        int attributes = HvVtl.VpContextOffset + HvVtl.ContextSs + HvVtl.SegmentAttributes;
        Assert.Equal(5UL, VtlGuest.EnableVpVtl(g, edit: b => b[attributes + 1] |= 0x01));
    }

    [Fact]
    public void Enable_vp_vtl_with_an_input_crossing_its_page_is_invalid_alignment()
    {
        using var g = SetUp();
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        Assert.Equal(4UL, VtlGuest.EnableVpVtl(g, at: 0x1000 - 0x80));
        Assert.Equal(0UL, VtlGuest.EnableVpVtl(g, at: 0x1000 - HvVtl.VpInputSize));
    }
}
