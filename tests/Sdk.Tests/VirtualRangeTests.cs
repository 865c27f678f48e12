using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>Virtual ranges become guest-physical runs (GuestPhysicalRuns, MemoryProtector.ProtectVirtual)
/// for guests that are not identity-mapped.</summary>
public sealed unsafe class VirtualRangeTests
{
    private const ulong R = HekiPermission.Read;
    private const ulong W = FakeHekiCpu.MappedWindow;

    private static HekiRange Range(ulong gpa, ulong pages, ulong permissions = R) =>
        new() { GuestPhysicalStart = gpa, PageCount = pages, Permissions = permissions };

    private static long Append(FakeHekiCpu cpu, ulong va, ulong bytes, out HekiRange[] ranges, int capacity = 16)
    {
        var buffer = new HekiRange[capacity];
        int n = 0;
        long r;
        fixed (HekiRange* b = buffer) r = GuestPhysicalRuns.Append(cpu, va, bytes, R, b, capacity, ref n);
        ranges = buffer[..n];
        return r;
    }

    [Fact]
    public void Identity_mapped_range_is_one_run()
    {
        Assert.Equal(0, Append(new FakeHekiCpu(null), 0x200000, 5 * 4096, out var ranges));
        Assert.Equal(new[] { Range(0x200000, 5) }, ranges);
    }

    [Fact]
    public void Unaligned_range_is_widened_to_whole_pages()
    {
        Assert.Equal(0, Append(new FakeHekiCpu(null), 0x200FFF, 2, out var ranges));
        Assert.Equal(new[] { Range(0x200000, 2) }, ranges);
    }

    [Fact]
    public void Contiguous_physical_pages_behind_another_virtual_address_are_one_run()
    {
        var cpu = new FakeHekiCpu(null);
        cpu.Map(W, 0x800000, 0x801000, 0x802000);
        Assert.Equal(0, Append(cpu, W + 0x10, 3 * 4096 - 0x10, out var ranges));
        Assert.Equal(new[] { Range(0x800000, 3) }, ranges);
    }

    [Fact]
    public void Discontiguous_physical_pages_are_separate_runs()
    {
        var cpu = new FakeHekiCpu(null);
        cpu.Map(W, 0x800000, 0x801000, 0x900000, 0x901000, 0x7FF000);
        Assert.Equal(0, Append(cpu, W, 5 * 4096, out var ranges));
        Assert.Equal(new[] { Range(0x800000, 2), Range(0x900000, 2), Range(0x7FF000, 1) }, ranges);
    }

    [Fact]
    public void An_unmapped_page_is_a_bad_address_and_appends_nothing()
    {
        var cpu = new FakeHekiCpu(null);
        cpu.Map(W, 0x800000, 0x801000);
        cpu.Map(W + 3 * 4096, 0x803000);
        Assert.Equal(HekiError.BadAddress, Append(cpu, W, 4 * 4096, out var ranges));
        Assert.Empty(ranges);
    }

    [Fact]
    public void More_runs_than_room_is_too_big()
    {
        var cpu = new FakeHekiCpu(null);
        cpu.Map(W, 0x800000, 0x900000, 0xA00000);
        Assert.Equal(HekiError.TooBig, Append(cpu, W, 3 * 4096, out var ranges, capacity: 2));
        Assert.Empty(ranges);
    }

    [Fact]
    public void Zero_bytes_append_nothing_and_a_wrapping_range_is_invalid()
    {
        var cpu = new FakeHekiCpu(null);
        Assert.Equal(0, Append(cpu, 0x200000, 0, out var none));
        Assert.Empty(none);
        Assert.Equal(HekiError.InvalidArgument, Append(cpu, ulong.MaxValue - 4095, 8192, out _));
    }

    [Fact]
    public void ProtectVirtual_asks_the_host_for_the_physical_runs()
    {
        var host = new FakeHekiHost();
        var cpu = new FakeHekiCpu(host);
        var protector = new MemoryProtector(cpu, HekiHostInterface.Detect(cpu, null!));
        cpu.Map(W, 0x800000, 0x801000, 0x400000);
        Assert.Equal(0, protector.ProtectVirtual(W, 3 * 4096, R, out int applied));
        Assert.Equal(2, applied);
        Assert.Equal(new[] { Range(0x800000, 2), Range(0x400000, 1) }, host.AcceptedRanges);
    }

    [Fact]
    public void ProtectVirtual_over_an_unmapped_page_calls_nothing()
    {
        var cpu = new FakeHekiCpu(new FakeHekiHost());
        var protector = new MemoryProtector(cpu, HekiHostInterface.Detect(cpu, null!));
        cpu.Map(W, 0x800000);
        Assert.Equal(HekiError.BadAddress, protector.ProtectVirtual(W, 2 * 4096, R, out int applied));
        Assert.Equal(0, applied);
        Assert.Empty(cpu.Hypercalls);
    }
}
