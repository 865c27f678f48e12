using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Vsm.Tests.Support;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md sections 9 and 10: every status of ModifyVtlProtectionMask and of the
/// VsmPartitionConfig register, and the host refusing to read or write pages for VTL0 that VTL0
/// may not read or write itself.</summary>
public sealed class VtlProtectionStatusTests
{
    private const ulong In = VsmGuestMachine.InputPage, Out = VsmGuestMachine.OutputPage;
    private const ulong Data = 0x150000, Hidden = 0x151000;
    private const uint R = HvMapGpa.Read, W = HvMapGpa.Write;

    /// <summary>In VTL1 (entered by the first VTL call), with nothing configured.</summary>
    private static Vtl1Session InVtl1(VsmGuestMachine g) => Vtl1Session.Start(g, _ => { });

    private static ulong EnableProtection(VsmGuestMachine g, UInt128 config)
    {
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.VsmPartitionConfig, config));
        return g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out);
    }

    [Fact]
    public void Modify_before_vtl_protection_is_enabled_is_invalid_partition_state()
    {
        using var g = new VsmGuestMachine();
        var s = InVtl1(g);
        s.WriteProtect(In, R, 0, Data >> 12);
        Assert.Equal((ulong)HvStatus.InvalidPartitionState, g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 1), In, Out));
        Assert.Equal(HvMapGpa.All, g.Host.Partition.Vtl0Protections.MaskOf(Data));
    }

    public static TheoryData<string, ulong> BadModifyInputs => new()
    {
        { "fast", HvHypercallInput.Fast | 1UL << 32 },
        { "no rep count", 0 },
        { "variable header", 1UL << 17 | 1UL << 32 },
    };

    [Theory]
    [MemberData(nameof(BadModifyInputs))]
    public void Modify_other_than_a_memory_form_rep_call_is_invalid_hypercall_input(string form, ulong extra)
    {
        using var g = new VsmGuestMachine();
        var s = InVtl1(g);
        Assert.Equal(1UL << 32, EnableProtection(g, Vtl1Session.ProtectionConfig()));
        s.WriteProtect(In, R, 0, Data >> 12);
        Assert.True(form.Length > 0);
        Assert.Equal((ulong)HvStatus.InvalidHypercallInput, g.CallHypercallPage(HvCall.ModifyVtlProtectionMask | extra, In, Out));
        Assert.Equal(HvMapGpa.All, g.Host.Partition.Vtl0Protections.MaskOf(Data));
    }

    [Theory]
    [InlineData("ok", HvStatus.Success)]
    [InlineData("elements cross the page", HvStatus.InvalidAlignment)]
    [InlineData("partition id", HvStatus.InvalidPartitionId)]
    [InlineData("map flag bit 4", HvStatus.InvalidParameter)]
    [InlineData("write without read", HvStatus.InvalidParameter)]
    [InlineData("reserved header byte", HvStatus.InvalidParameter)]
    [InlineData("input vtl reserved bit", HvStatus.InvalidParameter)]
    [InlineData("target without use-target", HvStatus.InvalidParameter)]
    [InlineData("target vtl 2", HvStatus.InvalidParameter)]
    [InlineData("target vtl 1 (own)", HvStatus.AccessDenied)]
    [InlineData("explicit target vtl 0", HvStatus.Success)]
    public void Modify_checks_every_field_of_its_input(string field, ushort status)
    {
        using var g = new VsmGuestMachine();
        var s = InVtl1(g);
        Assert.Equal(1UL << 32, EnableProtection(g, Vtl1Session.ProtectionConfig()));
        ulong at = field == "elements cross the page" ? In + 0xFF0 : In;
        s.WriteProtect(at, R, 0, Data >> 12);
        var b = g.Vm.Memory.Slice(at, HvMapGpa.HeaderSize);
        switch (field)
        {
            case "partition id": BinaryPrimitives.WriteUInt64LittleEndian(b, 5); break;
            case "map flag bit 4": b[HvMapGpa.MapFlagsOffset] = 0x11; break;
            case "write without read": b[HvMapGpa.MapFlagsOffset] = (byte)W; break;
            case "reserved header byte": b[15] = 1; break;
            case "input vtl reserved bit": b[HvMapGpa.InputVtlOffset] = 0x20; break;
            case "target without use-target": b[HvMapGpa.InputVtlOffset] = 0x01; break;
            case "target vtl 2": b[HvMapGpa.InputVtlOffset] = HvInputVtl.UseTargetVtl | 2; break;
            case "target vtl 1 (own)": b[HvMapGpa.InputVtlOffset] = HvInputVtl.UseTargetVtl | 1; break;
            case "explicit target vtl 0": b[HvMapGpa.InputVtlOffset] = HvInputVtl.UseTargetVtl; break;
        }
        ulong result = g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 1), at, Out);
        Assert.Equal(status, (ushort)result);
        Assert.Equal(status == HvStatus.Success ? R : HvMapGpa.All, g.Host.Partition.Vtl0Protections.MaskOf(Data));
        Assert.Equal(status == HvStatus.Success ? 1UL : 0, result >> 32);
    }

    [Fact]
    public void A_page_outside_ram_stops_the_call_with_the_reps_completed_and_the_earlier_pages_changed()
    {
        using var g = new VsmGuestMachine();
        var s = InVtl1(g);
        Assert.Equal(1UL << 32, EnableProtection(g, Vtl1Session.ProtectionConfig()));
        s.WriteProtect(In, R, 0, Data >> 12, VsmGuestMachine.MemorySize >> 12, Hidden >> 12);
        ulong result = g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 3), In, Out);
        Assert.Equal((ulong)HvStatus.InvalidParameter | 1UL << 32, result);
        Assert.Equal(R, g.Host.Partition.Vtl0Protections.MaskOf(Data));
        Assert.Equal(HvMapGpa.All, g.Host.Partition.Vtl0Protections.MaskOf(Hidden));
    }

    [Fact]
    public void A_rep_start_index_skips_the_elements_before_it()
    {
        using var g = new VsmGuestMachine();
        var s = InVtl1(g);
        Assert.Equal(1UL << 32, EnableProtection(g, Vtl1Session.ProtectionConfig()));
        s.WriteProtect(In, R, 0, Data >> 12, Hidden >> 12);
        Assert.Equal(2UL << 32, g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 2, start: 1), In, Out));
        Assert.Equal(HvMapGpa.All, g.Host.Partition.Vtl0Protections.MaskOf(Data));
        Assert.Equal(R, g.Host.Partition.Vtl0Protections.MaskOf(Hidden));
    }

    [Fact]
    public void Vtl0_cannot_modify_protections_nor_set_its_own_registers()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, _ => { });
        s.Protect(R, Hidden >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);

        s.WriteProtect(In, HvMapGpa.All, 0, Hidden >> 12);
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 1), In, Out));
        s.WriteProtect(In, HvMapGpa.All, HvInputVtl.UseTargetVtl, Hidden >> 12);
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 1), In, Out));
        Assert.Equal(R, g.Host.Partition.Vtl0Protections.MaskOf(Hidden));

        // not even through VsmPartitionConfig or its own CR4
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.VsmPartitionConfig, 0));
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out));
        Vtl1Session.WriteSet(g, In, HvInputVtl.UseTargetVtl | 1, (HvRegister.VsmPartitionConfig, 0));
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out));
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.Cr4, g.Cpu.Cr4 & ~(1UL << 20)));
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out));
        Assert.True(g.Host.Partition.Vtl0Protections.Enabled);
    }

    [Theory]
    [InlineData("reserved bit 7", 1UL << 7)]
    [InlineData("deny lower-VTL start-up (not offered)", HvPartitionConfig.DenyLowerVtlStartup)]
    [InlineData("default mask write without read", HvPartitionConfig.EnableVtlProtection | (ulong)W << HvPartitionConfig.DefaultMaskShift)]
    [InlineData("bits above 63", 0)]
    public void VsmPartitionConfig_refuses_values_it_cannot_honour(string what, ulong value)
    {
        using var g = new VsmGuestMachine();
        InVtl1(g);
        UInt128 v = what == "bits above 63" ? (UInt128)1 << 64 | Vtl1Session.ProtectionConfig() : value;
        Assert.Equal((ulong)HvStatus.InvalidParameter, EnableProtection(g, v));
        Assert.Equal(0UL, g.Host.Partition.Vtl1PartitionConfig);
        Assert.False(g.Host.Partition.Vtl0Protections.Enabled);
    }

    [Fact]
    public void Vtl_protection_once_enabled_stays_enabled_with_its_default_mask()
    {
        using var g = new VsmGuestMachine();
        InVtl1(g);
        var config = Vtl1Session.ProtectionConfig(R | HvMapGpa.KernelExecute);
        Assert.Equal(1UL << 32, EnableProtection(g, config));
        Assert.Equal(R | HvMapGpa.KernelExecute, g.Host.Partition.Vtl0Protections.MaskOf(Data));

        Assert.Equal((ulong)HvStatus.InvalidParameter, EnableProtection(g, 0));
        Assert.Equal((ulong)HvStatus.InvalidParameter, EnableProtection(g, Vtl1Session.ProtectionConfig()));
        Assert.Equal(1UL << 32, EnableProtection(g, config | HvPartitionConfig.ZeroMemoryOnReset));
        Assert.True(g.Host.Partition.Vtl0Protections.Enabled);
        Assert.Equal(R | HvMapGpa.KernelExecute, g.Host.Partition.Vtl0Protections.DefaultMask);
        Assert.Equal((ulong)(config | HvPartitionConfig.ZeroMemoryOnReset), g.Host.Partition.Vtl1PartitionConfig);
    }

    [Fact]
    public void The_host_does_not_read_or_write_pages_for_vtl0_that_vtl0_may_not_read_or_write()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, Vtl1Session.VtlCall);
        // the output page read-only for VTL0, a second page hidden from it
        s.Protect(R, Out >> 12);
        s.Reprotect(HvMapGpa.None, Hidden >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        g.Vm.Memory.Slice(Out, 16).Fill(0xEE);

        Vtl1Session.WriteGet(g, In, 0, HvRegister.Cr3);
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1), In, Out));
        Assert.Equal(0xEEEE_EEEE_EEEE_EEEEUL, g.ReadU64(Out));
        Vtl1Session.WriteGet(g, Hidden, 0, HvRegister.Cr3);
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1), Hidden, In + 0x800));
        // the normal path: readable input, writable output
        Assert.Equal(1UL << 32, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1), In, In + 0x800));
        Assert.Equal(g.Cpu.Cr3, g.ReadU64(In + 0x800));

        // the hypercall and VP assist pages the host writes: not onto a page VTL0 may not write
        g.Vm.Memory.Slice(Hidden, 8).Fill(0x11);
        g.Wrmsr(HvMsr.Hypercall, Hidden | HvMsr.Enable).AssertGp0(VsmGuestMachine.Code);
        g.Wrmsr(HvMsr.VpAssistPage, Out | HvMsr.Enable).AssertGp0(VsmGuestMachine.Code);
        Assert.Equal(0x1111_1111_1111_1111UL, g.ReadU64(Hidden));
        Assert.Equal(0UL, g.Host.Msrs.VpAssistPageMsr(0));   // VTL0 never set its own; the refused write left it
        g.Wrmsr(HvMsr.VpAssistPage, (In + 0x1000 * 8) | HvMsr.Enable).AssertCompleted();
    }

    [Fact]
    public void A_reset_ends_vtl_protection_and_zeroes_ram_when_vtl1_asked_for_it()
    {
        foreach (bool zero in new[] { false, true })
        {
            using var g = new VsmGuestMachine();
            InVtl1(g);
            g.WriteU64(0x44000, 0x5EC2E7);
            Assert.Equal(1UL << 32, EnableProtection(g, Vtl1Session.ProtectionConfig(extra: zero ? HvPartitionConfig.ZeroMemoryOnReset : 0)));
            g.Host.Reset();
            Assert.False(g.Host.Partition.Vtl0Protections.Enabled);
            Assert.Equal(0, g.Host.CurrentVtl);
            Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
            Assert.Equal(zero ? 0UL : 0x5EC2E7, g.ReadU64(0x44000));
        }
    }
}
