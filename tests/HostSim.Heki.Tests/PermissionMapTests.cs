using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// <see cref="PermissionMap"/> on its own (docs/abi.md sections 3 and 4), with small limits so
/// the per-call and total limits are reached quickly.
/// </summary>
public sealed class PermissionMapTests
{
    private const ulong Page = 0x1000;

    private static HekiRange Range(ulong gpa, ulong pages, ulong permissions) =>
        new() { GuestPhysicalStart = gpa, PageCount = pages, Permissions = permissions };

    [Fact]
    public void Defaults_are_the_documented_limits()
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(64u, map.MaxRangesPerCall);
        Assert.Equal(4096u, map.MaxRanges);
        Assert.Equal(16 * Page, map.MemorySize);
        Assert.True(map.IsEmpty);
    }

    [Fact]
    public void Per_call_limit_is_e2big_and_empty_call_is_einval()
    {
        var map = new PermissionMap(16 * Page, maxRangesPerCall: 2, maxRanges: 100);
        Assert.Equal(EInval, map.Apply([]));
        Assert.Equal(E2Big, map.Apply([Range(0, 1, R), Range(Page, 1, R), Range(2 * Page, 1, R)]));
        Assert.True(map.IsEmpty);
        Assert.Equal(0, map.Apply([Range(0, 1, R), Range(Page, 1, R)]));
        Assert.Equal(2, map.RangeCount);
    }

    [Fact]
    public void Total_limit_counts_every_accepted_range_and_refuses_the_call_that_would_pass_it()
    {
        var map = new PermissionMap(16 * Page, maxRangesPerCall: 4, maxRanges: 5);
        Assert.Equal(0, map.Apply([Range(0, 1, R), Range(Page, 1, R), Range(2 * Page, 1, R)]));
        Assert.Equal(E2Big, map.Apply([Range(3 * Page, 1, W), Range(4 * Page, 1, W), Range(5 * Page, 1, W)]));
        Assert.Null(map.PermissionsOf(3 * Page));
        Assert.Equal(3, map.RangeCount);
        Assert.Equal(0, map.Apply([Range(3 * Page, 1, W), Range(0, 1, R | W)]));      // exactly 5: fine
        Assert.Equal(5, map.RangeCount);
        Assert.Equal(E2Big, map.Apply([Range(0, 1, R)]));                               // renaming a page counts too
        Assert.Equal(R | W, map.PermissionsOf(0));
        map.Clear();
        Assert.Equal(0, map.RangeCount);
        Assert.Equal(0, map.Apply([Range(0, 1, R)]));
    }

    [Theory]
    [InlineData(1UL, 1UL, 1UL)]                                  // unaligned
    [InlineData(0xFFFUL, 1UL, 1UL)]
    [InlineData(0UL, 0UL, 1UL)]                                  // empty
    [InlineData(0x1000UL, 0xFFFFFFFFFFFFFUL, 1UL)]               // overflow (wraps to 0)
    [InlineData(0UL, 0xFFFFFFFFFFFFFFFFUL, 1UL)]
    [InlineData(0xF000UL, 2UL, 1UL)]                             // past the end of 16 pages
    [InlineData(0x10000UL, 1UL, 1UL)]
    [InlineData(0UL, 17UL, 1UL)]
    [InlineData(0UL, 1UL, 0x10UL)]                               // unknown permission bits
    [InlineData(0UL, 1UL, 0xFFUL)]
    public void Invalid_ranges_are_einval_and_nothing_changes(ulong gpa, ulong pages, ulong permissions)
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(0, map.Apply([Range(0x2000, 1, R | W)]));
        Assert.Equal(EInval, map.Apply([Range(0x3000, 1, X), Range(gpa, pages, permissions)]));
        Assert.Null(map.PermissionsOf(0x3000));
        Assert.Equal(R | W, map.PermissionsOf(0x2000));
        Assert.Equal(1, map.RangeCount);
        Assert.Equal(1, map.ProtectedPages);
    }

    [Fact]
    public void The_whole_memory_is_one_valid_range()
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(0, map.Apply([Range(0, 16, R)]));
        Assert.Equal(16, map.ProtectedPages);
    }

    [Theory]
    // permissions, access, allowed
    [InlineData(0UL, AccessKind.Read, false)]
    [InlineData(0UL, AccessKind.Write, false)]
    [InlineData(0UL, AccessKind.Execute, false)]
    [InlineData(1UL, AccessKind.Read, true)]
    [InlineData(1UL, AccessKind.Write, false)]
    [InlineData(1UL, AccessKind.Execute, false)]
    [InlineData(2UL, AccessKind.Read, false)]
    [InlineData(2UL, AccessKind.Write, true)]
    [InlineData(2UL, AccessKind.Execute, false)]
    [InlineData(4UL, AccessKind.Read, false)]
    [InlineData(4UL, AccessKind.Write, false)]
    [InlineData(4UL, AccessKind.Execute, true)]
    [InlineData(7UL, AccessKind.Read, true)]
    [InlineData(7UL, AccessKind.Write, true)]
    [InlineData(7UL, AccessKind.Execute, true)]
    [InlineData(9UL, AccessKind.Read, true)]
    [InlineData(9UL, AccessKind.Write, false)]
    [InlineData(8UL, AccessKind.Read, false)]
    [InlineData(0xEUL, AccessKind.Read, false)]
    [InlineData(0xEUL, AccessKind.Execute, true)]
    public void Reads_need_read_writes_need_write_fetches_need_exec(ulong permissions, AccessKind access, bool allowed)
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(0, map.Apply([Range(0x5000, 1, permissions)]));
        Assert.Equal(allowed, map.Allows(0x5000, access));
        Assert.Equal(allowed, map.Allows(0x5FFF, access));
        Assert.True(map.Allows(0x4FFF, access));                     // never-named neighbours keep every right
        Assert.True(map.Allows(0x6000, access));
    }

    [Fact]
    public void Immutable_one_way_rule_and_atomicity()
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(0, map.Apply([Range(0, 4, R | W | Immutable)]));
        Assert.Equal(0, map.Apply([Range(0, 1, R | Immutable), Range(Page, 1, W | Immutable)]));
        Assert.Equal(EPerm, map.Apply([Range(8 * Page, 1, R), Range(Page, 1, R | W | Immutable)]));
        Assert.Null(map.PermissionsOf(8 * Page));
        Assert.Equal(EPerm, map.Apply([Range(2 * Page, 1, R | W)]));
        Assert.Equal(EPerm, map.Apply([Range(2 * Page, 1, R | W | X | Immutable)]));
        Assert.Equal(R | W | Immutable, map.PermissionsOf(2 * Page));
        Assert.Equal(R | Immutable, map.PermissionsOf(0));
        Assert.Equal(W | Immutable, map.PermissionsOf(Page));
        Assert.Equal(4, map.ProtectedPages);
        Assert.Equal(3, map.RangeCount);
    }

    [Fact]
    public void Clear_gives_every_page_all_rights_back_even_immutable_ones()
    {
        var map = new PermissionMap(16 * Page);
        Assert.Equal(0, map.Apply([Range(0, 16, Immutable)]));
        Assert.False(map.Allows(0, AccessKind.Read));
        map.Clear();
        Assert.True(map.IsEmpty);
        Assert.True(map.Allows(0, AccessKind.Write));
        Assert.Null(map.PermissionsOf(0));
        Assert.Equal(0, map.Apply([Range(0, 1, R | W)]));
    }
}
