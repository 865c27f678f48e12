using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>CrPinner: pins through the MSRs or LOCK_CR, and refuses, without asking the host, a
/// bit that is clear in the register (pinning it would make every later write of it fault).</summary>
public sealed class CrPinnerTests
{
    private static (FakeHekiCpu Cpu, FakeHekiHost Host, CrPinner Pinner) Make(FakeHekiHost host, string? profile = null)
    {
        var cpu = new FakeHekiCpu(host);
        var h = HekiHostInterface.Detect(cpu, profile!);
        Assert.True(h.Present, h.Reason);
        return (cpu, host, new CrPinner(cpu, h));
    }

    [Fact]
    public void Pins_set_bits_through_the_MSRs()
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost());
        Assert.Equal(HekiError.Success, pinner.PinHigh(4, HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap));
        Assert.Equal(HekiError.Success, pinner.PinHigh(0, HekiCrBits.Cr0Wp));
        Assert.Equal(HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap, host.Cr4PinnedHigh);
        Assert.Equal(HekiCrBits.Cr0Wp, host.Cr0PinnedHigh);
        Assert.Equal((HekiMsr.DefaultBase + HekiMsr.Cr4PinnedHigh, HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap), cpu.MsrWrites[0]);
        Assert.True(pinner.TryPinnedHigh(4, out ulong pinned));
        Assert.Equal(host.Cr4PinnedHigh, pinned);
    }

    [Fact]
    public void Pins_add_to_earlier_pins()
    {
        var (_, host, pinner) = Make(new FakeHekiHost());
        Assert.Equal(0, pinner.PinHigh(4, HekiCrBits.Cr4Smep));
        Assert.Equal(0, pinner.PinHigh(4, HekiCrBits.Cr4Umip));
        Assert.Equal(HekiCrBits.Cr4Smep | HekiCrBits.Cr4Umip, host.Cr4PinnedHigh);
    }

    [Theory]
    [InlineData(4, HekiCrBits.Cr4Smap)]
    [InlineData(4, HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap)]
    [InlineData(0, HekiCrBits.Cr0Wp)]
    public void A_bit_clear_in_the_register_is_refused_without_a_host_call(int cr, ulong bits)
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost());
        cpu.Cr4 &= ~HekiCrBits.Cr4Smap;
        cpu.Cr0 &= ~HekiCrBits.Cr0Wp;
        Assert.Equal(HekiSdkError.PinBitClear, pinner.PinHigh(cr, bits));
        Assert.Equal(0, cpu.HostCalls);
        Assert.Equal(0UL, host.Cr0PinnedHigh | host.Cr4PinnedHigh);
    }

    [Fact]
    public void A_bit_clear_in_the_register_is_refused_on_the_LOCK_CR_path_too()
    {
        var (cpu, _, pinner) = Make(new FakeHekiHost { Features = HekiCpuid.FeatureLockCrHypercall });
        cpu.Cr4 &= ~HekiCrBits.Cr4Umip;
        Assert.Equal(HekiSdkError.PinBitClear, pinner.PinHigh(4, HekiCrBits.Cr4Umip));
        Assert.Empty(cpu.Hypercalls);
    }

    [Fact]
    public void Pins_through_LOCK_CR_when_there_are_no_MSRs()
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost { Features = HekiCpuid.FeatureLockCrHypercall });
        Assert.Equal(0, pinner.PinHigh(4, HekiCrBits.Cr4Smep));
        Assert.Equal(new HypercallRecord(HekiHypercall.DefaultBase + HekiHypercall.LockCr, 4, HekiCrBits.Cr4Smep, 0, 0), Assert.Single(cpu.Hypercalls));
        Assert.Equal(HekiCrBits.Cr4Smep, host.Cr4PinnedHigh);
        Assert.Empty(cpu.MsrWrites);
    }

    [Fact]
    public void HekiV3_pins_with_LOCK_CR_UPDATE()
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost { Profile = HostProfile.HekiV3 }, "heki-v3");
        Assert.Equal(0, pinner.PinHigh(0, HekiCrBits.Cr0Wp));
        Assert.Equal(new HypercallRecord(HekiCompat.HekiV3LockCrUpdate, 0, HekiCrBits.Cr0Wp, 0, 0), cpu.Hypercalls[^1]);
        Assert.Equal(HekiCrBits.Cr0Wp, host.Cr0PinnedHigh);
    }

    [Fact]
    public void CrPin2020_uses_the_KVM_MSR_numbers()
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost { Profile = HostProfile.CrPin2020 }, "cr-pin-2020");
        Assert.Equal(0, pinner.PinHigh(4, HekiCrBits.Cr4Smep));
        Assert.Equal(HekiCompat.CrPin2020Cr4PinnedHigh, cpu.MsrWrites[0].Msr);
        Assert.Equal(HekiCrBits.Cr4Smep, host.Cr4PinnedHigh);
        Assert.Equal(HekiCrBits.Cr4Allowed, pinner.Allowed(4));
    }

    [Fact]
    public void A_set_bit_the_host_does_not_allow_is_the_hosts_refusal()
    {
        var (cpu, host, pinner) = Make(new FakeHekiHost());
        const ulong pae = 1UL << 5;
        Assert.Equal(HekiError.InvalidArgument, pinner.PinHigh(4, pae));
        Assert.Single(cpu.MsrWrites);
        Assert.Equal(0UL, host.Cr4PinnedHigh);
    }

    [Theory]
    [InlineData(3, HekiCrBits.Cr4Smep)]
    [InlineData(4, 0UL)]
    public void Another_register_or_no_bits_is_an_invalid_argument(int cr, ulong bits)
    {
        var (cpu, _, pinner) = Make(new FakeHekiHost());
        Assert.Equal(HekiError.InvalidArgument, pinner.PinHigh(cr, bits));
        Assert.Equal(0, cpu.HostCalls);
    }

    [Fact]
    public void Nothing_to_pin_with_is_not_supported()
    {
        var (_, _, pinner) = Make(new FakeHekiHost { Features = HekiCpuid.FeatureProtectMemory });
        Assert.False(pinner.CanPin);
        Assert.Equal(HekiError.NotSupported, pinner.PinHigh(4, HekiCrBits.Cr4Smep));
    }
}
