using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>MemoryProtector: a request split into several PROTECT_MEMORY calls is checked whole
/// before the first call, so a malformed range applies nothing; a refusal the SDK cannot foresee
/// says how many ranges were applied.</summary>
public sealed unsafe class MemoryProtectorTests
{
    private const ulong Rw = HekiPermission.Read | HekiPermission.Write;

    private static (FakeHekiCpu Cpu, FakeHekiHost Host, MemoryProtector Protector) Make(FakeHekiHost host)
    {
        var cpu = new FakeHekiCpu(host);
        var h = HekiHostInterface.Detect(cpu, null!);
        Assert.True(h.Present, h.Reason);
        return (cpu, host, new MemoryProtector(cpu, h));
    }

    private static HekiRange[] Ranges(int count) => Enumerable.Range(0, count)
        .Select(i => new HekiRange { GuestPhysicalStart = 0x100000 + (ulong)i * 0x2000, PageCount = 1, Permissions = Rw }).ToArray();

    private static long Protect(MemoryProtector p, HekiRange[] ranges, out int applied)
    {
        fixed (HekiRange* r = ranges) return p.Protect(r, ranges.Length, out applied);
    }

    [Fact]
    public void Seventy_ranges_take_two_calls_and_all_apply()
    {
        var (cpu, host, p) = Make(new FakeHekiHost());
        Assert.Equal(HekiError.Success, Protect(p, Ranges(70), out int applied));
        Assert.Equal(70, applied);
        Assert.Equal(new[] { 64UL, 6UL }, cpu.Hypercalls.Select(c => c.A1));
        Assert.Equal(Ranges(70), host.AcceptedRanges);
        Assert.Equal(70, p.RangesAccepted);
    }

    public static TheoryData<string, HekiRange> Malformed => new()
    {
        { "misaligned", new HekiRange { GuestPhysicalStart = 0x200800, PageCount = 1, Permissions = Rw } },
        { "zero pages", new HekiRange { GuestPhysicalStart = 0x200000, PageCount = 0, Permissions = Rw } },
        { "page count overflows", new HekiRange { GuestPhysicalStart = 0x200000, PageCount = ulong.MaxValue >> 11, Permissions = Rw } },
        { "end wraps", new HekiRange { GuestPhysicalStart = 0xFFFF_FFFF_FFFF_F000, PageCount = 2, Permissions = Rw } },
        { "unknown bits", new HekiRange { GuestPhysicalStart = 0x200000, PageCount = 1, Permissions = 1UL << 4 } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_65th_range_of_70_applies_nothing(string what, HekiRange bad)
    {
        var (cpu, host, p) = Make(new FakeHekiHost());
        var ranges = Ranges(70);
        ranges[64] = bad;
        Assert.Equal(HekiError.InvalidArgument, Protect(p, ranges, out int applied));
        Assert.True(applied == 0, what);
        Assert.Empty(cpu.Hypercalls);
        Assert.Empty(host.AcceptedCalls);
    }

    [Fact]
    public void A_request_the_hosts_total_limit_cannot_hold_applies_nothing()
    {
        var (cpu, host, p) = Make(new FakeHekiHost { MaxRanges = 100 });
        Assert.Equal(0, Protect(p, Ranges(40), out _));
        cpu.Hypercalls.Clear();
        Assert.Equal(HekiError.TooBig, Protect(p, Ranges(61), out int applied));
        Assert.Equal(0, applied);
        Assert.Empty(cpu.Hypercalls);
        Assert.Equal(0, Protect(p, Ranges(60), out applied));
        Assert.Equal(60, applied);
        Assert.Equal(100, host.AcceptedRanges.Count());
    }

    [Fact]
    public void A_later_call_the_host_refuses_reports_how_many_were_applied()
    {
        // Guest memory ends before the 65th range: only the host can know.
        var ranges = Ranges(70);
        var (cpu, host, p) = Make(new FakeHekiHost { MemorySize = ranges[64].GuestPhysicalStart });
        Assert.Equal(HekiError.InvalidArgument, Protect(p, ranges, out int applied));
        Assert.Equal(64, applied);
        Assert.Equal(2, cpu.Hypercalls.Count);
        Assert.Equal(ranges[..64], host.AcceptedRanges);
        Assert.Equal(64, p.RangesAccepted);
    }

    [Fact]
    public void Smaller_per_call_limit_splits_accordingly()
    {
        var (cpu, _, p) = Make(new FakeHekiHost { MaxRangesPerCall = 3 });
        Assert.Equal(0, Protect(p, Ranges(7), out int applied));
        Assert.Equal(7, applied);
        Assert.Equal(new[] { 3UL, 3UL, 1UL }, cpu.Hypercalls.Select(c => c.A1));
    }

    [Fact]
    public void An_empty_request_is_invalid_and_calls_nothing()
    {
        var (cpu, _, p) = Make(new FakeHekiHost());
        Assert.Equal(HekiError.InvalidArgument, p.Protect((HekiRange*)8, 0, out int applied));
        Assert.Equal(0, applied);
        Assert.Empty(cpu.Hypercalls);
    }

    [Fact]
    public void Without_PROTECT_MEMORY_it_is_not_supported()
    {
        var (cpu, _, p) = Make(new FakeHekiHost { Features = HekiCpuid.FeatureCrPinMsrs });
        Assert.False(p.Available);
        Assert.Equal(HekiError.NotSupported, Protect(p, Ranges(1), out _));
        Assert.Empty(cpu.Hypercalls);
    }

    [Fact]
    public void The_array_address_passed_is_its_physical_address()
    {
        var (cpu, _, p) = Make(new FakeHekiHost());
        var ranges = Ranges(2);
        fixed (HekiRange* r = ranges)
        {
            Assert.Equal(0, p.Protect(r, 2));
            Assert.Equal((ulong)r, cpu.Hypercalls[0].A0);
        }
    }
}
