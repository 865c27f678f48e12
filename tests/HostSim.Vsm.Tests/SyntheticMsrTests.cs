using HekiGuest.Abi;
using HekiGuest.HostSim.Vsm.Tests.Support;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 2: GUEST_OS_ID, HYPERCALL, VP_INDEX, VP_ASSIST_PAGE.</summary>
public sealed class SyntheticMsrTests
{
    private static readonly ulong Code = VsmGuestMachine.Code;

    [Fact]
    public void Every_msr_reads_zero_after_power_on()
    {
        using var g = new VsmGuestMachine();
        foreach (uint msr in new[] { HvMsr.GuestOsId, HvMsr.Hypercall, HvMsr.VpIndex, HvMsr.VpAssistPage })
        {
            Assert.Equal(0UL, g.Rdmsr(msr));
        }
    }

    [Fact]
    public void Guest_os_id_reads_back_what_was_written()
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.GuestOsId, VsmGuestMachine.GuestOsId).AssertCompleted();
        Assert.Equal(VsmGuestMachine.GuestOsId, g.Rdmsr(HvMsr.GuestOsId));
        Assert.Equal(VsmSetupStep.GuestOsIdSet, Assert.Single(g.Events.Steps).Step);
    }

    [Fact]
    public void Enabling_the_hypercall_page_fills_it_with_the_published_sequences()
    {
        using var g = new VsmGuestMachine();
        g.Vm.Memory.Slice(VsmGuestMachine.HypercallPageGpa, 4096).Fill(0x90);
        g.SetUpHypercalls();
        Assert.Equal(VsmGuestMachine.HypercallPageGpa | 1, g.Rdmsr(HvMsr.Hypercall));
        var page = g.Vm.Memory.Slice(VsmGuestMachine.HypercallPageGpa, 4096).ToArray();
        Assert.Equal(new byte[] { 0x0F, 0x01, 0xC1, 0xC3 }, page[..4]);
        byte[] vtlCall = [0x48, 0x89, 0xC8, 0xB9, 0x11, 0, 0, 0, 0x0F, 0x01, 0xC1, 0xC3];
        byte[] vtlReturn = [0x48, 0x89, 0xC8, 0xB9, 0x12, 0, 0, 0, 0x0F, 0x01, 0xC1, 0xC3];
        Assert.Equal(vtlCall, page[0x40..(0x40 + 12)]);
        Assert.Equal(vtlReturn, page[0x80..(0x80 + 12)]);
        Assert.Equal(0xCC, page[4]);
        Assert.Equal(0xCC, page[4095]);
        Assert.Equal(0x40UL | 0x80UL << 12, HvHypercallPage.VsmCodePageOffsets);
        Assert.Equal([VsmSetupStep.GuestOsIdSet, VsmSetupStep.HypercallPageEnabled], g.Events.Steps.Select(s => s.Step));
    }

    [Fact]
    public void Without_a_guest_os_id_the_hypercall_page_stays_disabled_and_unwritten()
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.Hypercall, VsmGuestMachine.HypercallPageGpa | 1).AssertCompleted();
        Assert.Equal(VsmGuestMachine.HypercallPageGpa, g.Rdmsr(HvMsr.Hypercall));
        Assert.Equal(0UL, g.ReadU64(VsmGuestMachine.HypercallPageGpa));
        Assert.False(g.Host.Msrs.HypercallsEnabled(0));
    }

    [Fact]
    public void Clearing_the_guest_os_id_disables_hypercalls()
    {
        using var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        g.Wrmsr(HvMsr.GuestOsId, 0).AssertCompleted();
        Assert.Equal(VsmGuestMachine.HypercallPageGpa, g.Rdmsr(HvMsr.Hypercall));
        g.Execute(a => a.vmcall()).AssertUd(Code);
    }

    [Theory]
    [InlineData(VsmGuestMachine.MemorySize)]            // first page past RAM
    [InlineData(0x7FFF_F000UL)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL)]
    public void A_hypercall_page_outside_ram_is_gp_and_leaves_the_msr_unchanged(ulong gpa)
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.GuestOsId, VsmGuestMachine.GuestOsId).AssertCompleted();
        g.Wrmsr(HvMsr.Hypercall, gpa | 1).AssertGp0(Code);
        Assert.Equal(0UL, g.Rdmsr(HvMsr.Hypercall));
    }

    [Theory]
    [InlineData(1UL << 1)]      // locked: not offered
    [InlineData(1UL << 11)]
    public void Reserved_bits_in_the_hypercall_msr_are_gp(ulong bits)
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.GuestOsId, VsmGuestMachine.GuestOsId).AssertCompleted();
        g.Wrmsr(HvMsr.Hypercall, VsmGuestMachine.HypercallPageGpa | 1 | bits).AssertGp0(Code);
    }

    [Fact]
    public void Vp_index_is_zero_and_read_only()
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.VpIndex, 0).AssertGp0(Code);
        g.Wrmsr(HvMsr.VpIndex, 1).AssertGp0(Code);
        Assert.Equal(0UL, g.Rdmsr(HvMsr.VpIndex));
    }

    [Fact]
    public void Vp_assist_page_takes_a_ram_page_with_the_enable_bit()
    {
        using var g = new VsmGuestMachine();
        g.Wrmsr(HvMsr.VpAssistPage, VsmGuestMachine.AssistPage | 1).AssertCompleted();
        Assert.Equal(VsmGuestMachine.AssistPage | 1, g.Rdmsr(HvMsr.VpAssistPage));
        g.Wrmsr(HvMsr.VpAssistPage, VsmGuestMachine.MemorySize | 1).AssertGp0(Code);
        g.Wrmsr(HvMsr.VpAssistPage, VsmGuestMachine.AssistPage | 1 << 5).AssertGp0(Code);
        Assert.Equal(VsmGuestMachine.AssistPage | 1, g.Rdmsr(HvMsr.VpAssistPage));
        Assert.Equal(VsmSetupStep.VpAssistPageEnabled, Assert.Single(g.Events.Steps).Step);
    }

    [Fact]
    public void Other_synthetic_msrs_are_gp()
    {
        using var g = new VsmGuestMachine();
        g.TryRdmsr(0x40000070, out _).AssertGp0(Code);
        g.Wrmsr(0x40000003, 1).AssertGp0(Code);
    }

    [Fact]
    public void A_reset_clears_the_synthetic_msrs()
    {
        using var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        g.Wrmsr(HvMsr.VpAssistPage, VsmGuestMachine.AssistPage | 1).AssertCompleted();
        g.Host.Reset();
        Assert.Equal(0UL, g.Host.Msrs.GuestOsId(0));
        Assert.Equal(0UL, g.Host.Msrs.HypercallMsr(0));
        Assert.Equal(0UL, g.Host.Msrs.VpAssistPageMsr(0));
    }
}
