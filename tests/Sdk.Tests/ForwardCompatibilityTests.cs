using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>The version rule (docs/abi.md section 1): any minor of major 1 is accepted and only
/// known features whose bits are set are used; any other major is refused, with both majors in
/// the reason.</summary>
public sealed class ForwardCompatibilityTests
{
    [Theory]
    [InlineData(1u, 0u)]
    [InlineData(1u, 1u)]
    [InlineData(1u, 0xFFFFu)]
    public void Any_minor_of_major_1_is_accepted(uint major, uint minor)
    {
        var h = HekiHostInterface.Detect(new FakeHekiCpu(new FakeHekiHost { Version = major | (minor << 16) }), null!);
        Assert.Equal(HekiProfile.Heki, h.Profile);
        Assert.Equal(major, h.VersionMajor);
        Assert.Equal(minor, h.VersionMinor);
    }

    [Theory]
    [InlineData(0u, "0")]
    [InlineData(2u, "2")]
    [InlineData(2u | (5u << 16), "2")]
    [InlineData(65535u, "65535")]
    public void Another_major_is_refused_with_the_reason(uint version, string major)
    {
        var h = HekiHostInterface.Detect(new FakeHekiCpu(new FakeHekiHost { Version = version }), null!);
        Assert.False(h.Present);
        Assert.Equal($"unsupported HekiGuest ABI major version {major} (this SDK knows major 1)", h.Reason);
    }

    [Fact]
    public void Unknown_feature_bits_are_ignored_and_missing_ones_not_used()
    {
        // A later minor with a new feature bit (bit 9) and without PROTECT_MEMORY.
        var host = new FakeHekiHost { Version = 1 | (2u << 16), Features = HekiCpuid.FeatureCrPinMsrs | (1u << 9) };
        var cpu = new FakeHekiCpu(host);
        var h = HekiHostInterface.Detect(cpu, null!);
        Assert.True(h.Present);
        Assert.True(h.Has(HekiCpuid.FeatureCrPinMsrs));
        Assert.False(new MemoryProtector(cpu, h).Available);
        Assert.Equal(0, new CrPinner(cpu, h).PinHigh(4, HekiCrBits.Cr4Smep));
        Assert.Empty(cpu.Hypercalls);
    }

    [Fact]
    public void The_report_shows_a_minor_version()
    {
        var report = new RecordingReport();
        GuestHardening.Apply(new FakeHekiCpu(new FakeHekiHost { Version = 1 | (3u << 16), Features = 0 }), null!, default, report);
        Assert.Equal("heki: host interface HekiGuest ABI version 1.3, features 0x0", report.Lines[0]);
    }
}
