using HekiGuest.Abi;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// <see cref="PermissionMap.Apply"/> against the rule of docs/abi.md section 3 written the plain
/// way (a per-page copy, entries applied in order, each checked against the state it meets), on
/// random calls over a small memory; and a refused call over a large memory costs no pass over it.
/// </summary>
public sealed class PermissionMapModelTests
{
    private const ulong Page = 0x1000;
    private const int Pages = 48;

    /// <summary>The reference: per-page bytes (0 = never named), the one-way rule per page.</summary>
    private static long ModelApply(byte[] pages, HekiRange[] ranges)
    {
        var next = (byte[])pages.Clone();
        foreach (var r in ranges)
        {
            for (ulong p = r.GuestPhysicalStart / Page; p < r.GuestPhysicalStart / Page + r.PageCount; p++)
            {
                byte current = next[p];
                if ((current & Immutable) != 0
                    && ((r.Permissions & Immutable) == 0 || (r.Permissions & ~(ulong)current & (R | W | X)) != 0))
                {
                    return EPerm;
                }
                next[p] = (byte)(0x80 | r.Permissions);
            }
        }
        next.CopyTo(pages, 0);
        return 0;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_calls_agree_with_the_per_page_rule(int seed)
    {
        var random = new Random(seed);
        var map = new PermissionMap(Pages * Page, maxRangesPerCall: 64, maxRanges: 100_000);
        var model = new byte[Pages];
        int refused = 0;
        for (int call = 0; call < 3000; call++)
        {
            if (call % 40 == 0)
            {
                map.Clear();                                                // a VM reset: start over before IMMUTABLE saturates
                Array.Clear(model);
            }
            var ranges = new HekiRange[random.Next(1, 6)];
            for (int i = 0; i < ranges.Length; i++)
            {
                ulong first = (ulong)random.Next(Pages);
                ulong count = (ulong)random.Next(1, Math.Min(8, Pages - (int)first) + 1);
                // mostly IMMUTABLE with few rights, so refusals and acceptances both happen
                ulong perms = (ulong)random.Next(8);
                if (random.Next(3) == 0) perms |= Immutable;
                ranges[i] = new HekiRange { GuestPhysicalStart = first * Page, PageCount = count, Permissions = perms };
            }
            long expected = ModelApply(model, ranges);
            Assert.Equal(expected, map.Apply(ranges));
            if (expected != 0) refused++;
            for (int p = 0; p < Pages; p++)
            {
                ulong? want = model[p] == 0 ? null : (ulong)(model[p] & 0xF);
                Assert.Equal(want, map.PermissionsOf((ulong)p * Page));
            }
        }
        Assert.InRange(refused, 100, 2900);
    }

    [Fact]
    public void A_refused_call_over_a_large_memory_allocates_nothing_proportional_to_it()
    {
        const ulong memory = 16UL << 30;                                    // 4 Mi pages
        var map = new PermissionMap(memory);
        Assert.Equal(0, map.Apply([new HekiRange { GuestPhysicalStart = 0, PageCount = 1, Permissions = R | X | Immutable }]));
        var relax = Enumerable.Range(0, 64)
            .Select(_ => new HekiRange { GuestPhysicalStart = 0, PageCount = memory / Page, Permissions = R | W })
            .ToArray();
        map.Apply(relax);                                                   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(EPerm, map.Apply(relax));
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"10 refused calls allocated {allocated} bytes");
        Assert.Equal(R | X | Immutable, map.PermissionsOf(0));
        Assert.Null(map.PermissionsOf(Page));
    }
}
