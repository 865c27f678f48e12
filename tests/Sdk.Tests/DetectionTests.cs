using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>HekiHostInterface.Detect per profile, and every reason it gives for using none.</summary>
public sealed class DetectionTests
{
    private static HekiHostInterface Detect(FakeHekiCpu cpu, string? profile) => HekiHostInterface.Detect(cpu, profile!);

    [Fact]
    public void Heki_is_found_by_scan_past_the_KVM_range()
    {
        var host = new FakeHekiHost { MaxRangesPerCall = 32, MaxRanges = 100 };
        var h = Detect(new FakeHekiCpu(host), null);
        Assert.Equal(HekiProfile.Heki, h.Profile);
        Assert.True(h.Present);
        Assert.Equal("", h.Reason);
        Assert.Equal(HekiCpuid.DefaultBase, h.CpuidBase);
        Assert.Equal(1u, h.VersionMajor);
        Assert.Equal(0u, h.VersionMinor);
        Assert.Equal(0xFu, h.Features);
        Assert.Equal(HekiMsr.DefaultBase, h.MsrBase);
        Assert.Equal(HekiHypercall.DefaultBase, h.HypercallBase);
        Assert.Equal(32u, h.MaxRangesPerCall);
        Assert.Equal(100u, h.MaxRanges);
    }

    [Fact]
    public void Heki_named_explicitly_is_the_same_as_autodetection()
    {
        Assert.Equal(HekiProfile.Heki, Detect(new FakeHekiCpu(new FakeHekiHost()), "heki").Profile);
    }

    [Fact]
    public void Heki_at_another_base_is_found()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { CpuidBase = 0x4000_0A00 }), null);
        Assert.Equal(0x4000_0A00u, h.CpuidBase);
        Assert.True(h.Present);
    }

    [Fact]
    public void Off_uses_nothing_and_asks_nothing()
    {
        var cpu = new FakeHekiCpu(new FakeHekiHost());
        var h = Detect(cpu, "off");
        Assert.False(h.Present);
        Assert.Equal("disabled on the command line (heki.profile=off)", h.Reason);
        Assert.Equal(0, cpu.CpuidCalls);
    }

    [Fact]
    public void No_hypervisor_bit()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost()) { HypervisorBit = false }, null);
        Assert.False(h.Present);
        Assert.Equal("no hypervisor (CPUID.1:ECX.HV clear)", h.Reason);
    }

    [Fact]
    public void No_HekiGuest_range()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.None }), null);
        Assert.Equal("no HekiGuest host interface (no HEKIGUESTABI CPUID range)", h.Reason);
    }

    [Fact]
    public void Range_too_short()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { HighestLeafOffset = 1 }), null);
        Assert.False(h.Present);
        Assert.Equal("HekiGuest CPUID range too short", h.Reason);
    }

    [Theory]
    [InlineData("HEKI")]
    [InlineData("Heki")]
    [InlineData("CR-PIN-2020")]
    [InlineData("Heki-V3")]
    [InlineData("OFF")]
    public void Wrong_case_name_is_named_and_blamed_on_its_case(string name)
    {
        var cpu = new FakeHekiCpu(new FakeHekiHost()) { HypervisorBit = false };
        var h = Detect(cpu, name);
        Assert.False(h.Present);
        Assert.Equal($"unknown profile name '{name}' (names are lower case: heki, cr-pin-2020, heki-v3, off)", h.Reason);
        Assert.Equal(0, cpu.CpuidCalls);
    }

    [Theory]
    [InlineData("kvm")]
    [InlineData("")]
    [InlineData("heki ")]
    public void Unknown_name_is_named_with_the_known_ones(string name)
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost()), name);
        Assert.False(h.Present);
        Assert.Equal($"unknown profile name '{name}' in heki.profile (known names: heki, cr-pin-2020, heki-v3, off)", h.Reason);
    }

    [Fact]
    public void CrPin2020_when_selected_and_offered()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.CrPin2020 }), "cr-pin-2020");
        Assert.Equal(HekiProfile.CrPin2020, h.Profile);
        Assert.Equal(HekiCpuid.FeatureCrPinMsrs, h.Features);
    }

    [Fact]
    public void CrPin2020_is_never_autodetected()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.CrPin2020 }), null);
        Assert.False(h.Present);
        Assert.Equal("no HekiGuest host interface (no HEKIGUESTABI CPUID range)", h.Reason);
    }

    [Fact]
    public void CrPin2020_with_its_feature_bit_clear()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.CrPin2020, CrPin2020FeatureBit = false }), "cr-pin-2020");
        Assert.Equal("cr-pin-2020 selected but feature bit 15 is clear", h.Reason);
    }

    [Theory]
    [InlineData("cr-pin-2020")]
    [InlineData("heki-v3")]
    public void Compat_profile_on_a_host_that_is_not_KVM(string name)
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.None }), name);
        Assert.False(h.Present);
        Assert.Equal($"{name} selected but the host is not KVM-compatible", h.Reason);
    }

    [Fact]
    public void HekiV3_when_its_version_query_answers_1()
    {
        var cpu = new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.HekiV3 });
        var h = Detect(cpu, "heki-v3");
        Assert.Equal(HekiProfile.HekiV3, h.Profile);
        Assert.Equal(HekiCpuid.FeatureLockCrHypercall, h.Features);
        Assert.Equal(new HypercallRecord(HekiCompat.HekiV3LockCrUpdate, 0, 0, HekiCompat.HekiV3FlagVersion, 0), Assert.Single(cpu.Hypercalls));
    }

    [Fact]
    public void HekiV3_when_its_version_query_fails()
    {
        var h = Detect(new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.HekiV3, HekiV3VersionAnswer = 2 }), "heki-v3");
        Assert.Equal("heki-v3 selected but LOCK_CR_UPDATE's version query failed", h.Reason);
    }
}
