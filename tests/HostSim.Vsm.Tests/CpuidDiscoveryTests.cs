using HekiGuest.Abi;
using HekiGuest.HostSim.Vsm.Tests.Support;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 1: what a guest scanning the hypervisor CPUID ranges finds.</summary>
public sealed class CpuidDiscoveryTests
{
    private const uint HekiSignatureEbx = 0x494B4548;   // "HEKI", the HekiGuest range's first word

    [Fact]
    public void The_hypervisor_present_bit_is_set()
    {
        using var g = new VsmGuestMachine();
        Assert.NotEqual(0u, g.GuestCpuid(1).Ecx & (1u << 31));
    }

    [Fact]
    public void A_scan_finds_microsoft_hv_at_0x40000000_and_kvm_at_0x40000100_and_no_hekiguest_range()
    {
        using var g = new VsmGuestMachine();
        var found = new Dictionary<uint, (uint Ebx, uint Ecx, uint Edx)>();
        for (uint leaf = 0x40000000; leaf <= 0x4000FF00; leaf += 0x100)
        {
            var r = g.GuestCpuid(leaf);
            if ((r.Ebx | r.Ecx | r.Edx) != 0) found[leaf] = (r.Ebx, r.Ecx, r.Edx);
            Assert.NotEqual(HekiSignatureEbx, r.Ebx);
        }
        Assert.Equal([0x40000000u, 0x40000100u], found.Keys.Order());
        Assert.Equal((HvCpuid.VendorEbx, HvCpuid.VendorEcx, HvCpuid.VendorEdx), found[0x40000000]);
        Assert.Equal("Microsoft Hv", Signature(found[0x40000000]));
        Assert.Equal("KVMKVMKVM\0\0\0", Signature(found[0x40000100]));
        Assert.Equal(0x40000006u, g.GuestCpuid(0x40000000).Eax);
        Assert.Equal(0x40000101u, g.GuestCpuid(0x40000100).Eax);
        Assert.Equal(0u, g.GuestCpuid(0x40000101).Eax);
    }

    [Fact]
    public void The_interface_is_hv1()
    {
        using var g = new VsmGuestMachine();
        var r = g.GuestCpuid(0x40000001);
        Assert.Equal(HvCpuid.InterfaceHv1, r.Eax);
        Assert.Equal("Hv#1", System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(r.Eax)));
    }

    [Fact]
    public void Privileges_offer_vsm_vp_registers_hypercall_msrs_and_vp_index()
    {
        using var g = new VsmGuestMachine();
        var r = g.GuestCpuid(0x40000003);
        Assert.Equal(1u << 5 | 1u << 6, r.Eax);          // AccessHypercallMsrs, AccessVpIndex
        Assert.Equal(1u << 16 | 1u << 17, r.Ebx);        // AccessVsm, AccessVpRegisters
        Assert.Equal(0u, r.Edx);                         // no XMM fast calls
    }

    [Theory]
    [InlineData(0x40000002u)]
    [InlineData(0x40000006u)]
    [InlineData(0x40000007u)]
    [InlineData(0x40000200u)]
    [InlineData(0x4000FF00u)]
    public void Other_hypervisor_leaves_are_zero(uint leaf)
    {
        using var g = new VsmGuestMachine();
        Assert.Equal(default, g.GuestCpuid(leaf));
    }

    private static string Signature((uint Ebx, uint Ecx, uint Edx) s) =>
        System.Text.Encoding.ASCII.GetString([.. BitConverter.GetBytes(s.Ebx), .. BitConverter.GetBytes(s.Ecx), .. BitConverter.GetBytes(s.Edx)]);
}
