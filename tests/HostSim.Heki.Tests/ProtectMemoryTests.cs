using HekiGuest.HostSim.Heki.Tests.Support;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// PROTECT_MEMORY(gpa, count, flags) called by the guest (docs/abi.md section 3): every error
/// path, atomicity, the one-way IMMUTABLE rule, and entries applied in order.
/// </summary>
public sealed class ProtectMemoryTests
{
    private const ulong Array0 = HekiGuestMachine.RangeArray;
    private const ulong Mem = HekiGuestMachine.MemorySize;
    private const ulong P = 0x150000;          // a kernel data page the tests protect

    /// <summary>The permission of every page of guest memory (null = never named).</summary>
    private static ulong?[] Snapshot(HekiGuestMachine g) =>
        Enumerable.Range(0, (int)(Mem >> 12)).Select(i => g.Host.Permissions.PermissionsOf((ulong)i << 12)).ToArray();

    [Fact]
    public void A_valid_call_returns_0_and_sets_exactly_the_named_pages()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 2, R | X), (0x300000, 1, 0)));
        Assert.Equal(R | X, g.Host.Permissions.PermissionsOf(P));
        Assert.Equal(R | X, g.Host.Permissions.PermissionsOf(P + 0x1FFF));
        Assert.Null(g.Host.Permissions.PermissionsOf(P + 0x2000));
        Assert.Null(g.Host.Permissions.PermissionsOf(P - 1));
        Assert.Equal(0UL, g.Host.Permissions.PermissionsOf(0x300000));
        Assert.Equal(3, Snapshot(g).Count(p => p is not null));
    }

    /// <summary>Call-level errors, with a valid one-entry array at <see cref="Array0"/> unless the case moves it.</summary>
    [Theory]
    [InlineData(Array0, 1UL, 1UL, EInval)]                          // flags != 0
    [InlineData(Array0, 1UL, 0x8000000000000000UL, EInval)]
    [InlineData(Array0, 0UL, 0UL, EInval)]                          // count 0
    [InlineData(Array0, 65UL, 0UL, E2Big)]                          // count > 64
    [InlineData(Array0, 0x100000000UL, 0UL, E2Big)]
    [InlineData(Array0, 0xFFFFFFFFFFFFFFFFUL, 0UL, E2Big)]
    [InlineData(0x1E0004UL, 1UL, 0UL, EInval)]                      // array not 8-byte aligned (holding a valid entry)
    [InlineData(0x1E0001UL, 1UL, 0UL, EInval)]
    [InlineData(0x1E000CUL, 2UL, 0UL, EInval)]
    [InlineData(Mem - 16, 1UL, 0UL, EFault)]                        // 24 bytes from 16 before the end: partly outside
    [InlineData(Mem - 24 * 2 + 8, 2UL, 0UL, EFault)]
    [InlineData(Mem, 1UL, 0UL, EFault)]                             // entirely outside
    [InlineData(Mem + 0x1000, 1UL, 0UL, EFault)]
    [InlineData(0xFFFFFFFFFFFFFFF8UL, 1UL, 0UL, EFault)]            // would wrap around
    public void Call_level_errors(ulong gpa, ulong count, ulong flags, long expected)
    {
        using var g = new HekiGuestMachine();
        // Valid entries wherever the array is put (inside memory).
        for (ulong at = Array0; at < Array0 + 65 * 24; at += 24)
            g.WriteRanges(at, (P, 1, R));
        for (ulong at = gpa; gpa != Array0 && gpa < Mem && at < gpa + 48 && at + 24 <= Mem; at += 24)
            g.WriteRanges(at, (P, 1, R));

        Assert.Equal(expected, g.Hypercall(ProtectMemory, gpa, count, flags));
        Assert.True(g.Host.Permissions.IsEmpty);
        Assert.Empty(g.Events.All);
    }

    [Fact]
    public void The_array_may_end_exactly_at_the_end_of_memory_and_hold_64_entries()
    {
        using var g = new HekiGuestMachine();
        g.WriteRanges(Mem - 24, (P, 1, R));
        Assert.Equal(0, g.Hypercall(ProtectMemory, Mem - 24, 1, 0));
        for (ulong i = 0; i < 64; i++) g.WriteRanges(Array0 + i * 24, (0x300000 + i * 0x1000, 1, R | W));
        Assert.Equal(0, g.Hypercall(ProtectMemory, Array0, 64, 0));
        Assert.Equal(R | W, g.Host.Permissions.PermissionsOf(0x300000 + 63 * 0x1000));
    }

    /// <summary>Entry-level errors: all -22, checked before anything changes.</summary>
    [Theory]
    [InlineData(P + 1, 1UL, R)]                                      // gpa_start not 4 KiB aligned
    [InlineData(P + 0x800, 1UL, R)]
    [InlineData(P, 0UL, R)]                                          // page_count 0
    [InlineData(0x1000UL, 0xFFFFFFFFFFFFFUL, R)]                     // start + pages*4K wraps to 0
    [InlineData(P, 0xFFFFFFFFFFFFFFFFUL, R)]                         // pages*4K overflows
    [InlineData(P, 0x10000000000000UL, R)]
    [InlineData(0xFFFFFFFFFFFFF000UL, 1UL, R)]                       // wraps exactly to 0
    [InlineData(Mem - 0x1000, 2UL, R)]                               // past the end of memory
    [InlineData(Mem, 1UL, R)]
    [InlineData(Mem + 0x100000, 1UL, R)]
    [InlineData(0UL, 1025UL, R)]
    [InlineData(P, 1UL, 0x10UL)]                                     // unknown permission bits
    [InlineData(P, 1UL, R | 0x20UL)]
    [InlineData(P, 1UL, 0x8000000000000000UL)]
    public void Entry_level_errors_are_einval(ulong start, ulong pages, ulong permissions)
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(EInval, g.ProtectMemory((start, pages, permissions)));
        Assert.True(g.Host.Permissions.IsEmpty);
        Assert.Empty(g.Events.All);
    }

    [Theory]
    [InlineData(P + 1, 1UL, R)]
    [InlineData(P, 0UL, R)]
    [InlineData(Mem - 0x1000, 2UL, R)]
    [InlineData(P, 1UL, 0x10UL)]
    public void A_bad_entry_after_a_good_one_fails_the_whole_call(ulong start, ulong pages, ulong permissions)
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((0x300000, 1, R | W)));
        var before = Snapshot(g);
        Assert.Equal(EInval, g.ProtectMemory((0x301000, 4, R), (0x300000, 1, R), (start, pages, permissions)));
        Assert.Equal(before, Snapshot(g));
        Assert.Equal(1, g.Host.Permissions.RangeCount);
    }

    [Fact]
    public void Memory_end_is_the_last_page_that_can_be_named()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((Mem - 0x1000, 1, R), (0, 1024, R | W | X)));
        Assert.Equal(R | W | X, g.Host.Permissions.PermissionsOf(Mem - 1));
    }

    [Fact]
    public void More_than_4096_ranges_in_total_is_e2big_and_changes_nothing()
    {
        using var g = new HekiGuestMachine();
        for (ulong i = 0; i < 64; i++) g.WriteRanges(Array0 + i * 24, (0x300000 + i * 0x1000, 1, R | W));
        for (int call = 0; call < 64; call++)
            Assert.Equal(0, g.Hypercall(ProtectMemory, Array0, 64, 0));
        Assert.Equal(4096, g.Host.Permissions.RangeCount);
        var before = Snapshot(g);
        g.WriteRanges(Array0, (P, 1, R));
        Assert.Equal(E2Big, g.Hypercall(ProtectMemory, Array0, 1, 0));
        Assert.Equal(before, Snapshot(g));
        Assert.Null(g.Host.Permissions.PermissionsOf(P));
        Assert.Equal(4096, g.Host.Permissions.RangeCount);
    }

    [Fact]
    public void Immutable_pages_may_only_lose_rights()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 2, R | X | Immutable)));
        Assert.Equal(0, g.ProtectMemory((P, 2, R | X | Immutable)));           // the same rights again
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));               // a subset
        Assert.Equal(R | Immutable, g.Host.Permissions.PermissionsOf(P));
        Assert.Equal(R | X | Immutable, g.Host.Permissions.PermissionsOf(P + 0x1000));

        var before = Snapshot(g);
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R | X | Immutable)));       // X back
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R | W | Immutable)));       // W added
        Assert.Equal(EPerm, g.ProtectMemory((P + 0x1000, 1, R | W | X | Immutable)));
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R)));                       // IMMUTABLE dropped
        Assert.Equal(EPerm, g.ProtectMemory((P + 0x1000, 1, R | X)));          // same rights, IMMUTABLE dropped
        Assert.Equal(EPerm, g.ProtectMemory((P - 0x1000, 3, R | X | Immutable)));   // covers P (R only) too
        Assert.Equal(before, Snapshot(g));

        Assert.Equal(0, g.ProtectMemory((P, 2, Immutable)));                   // down to nothing, still immutable
        Assert.Equal(Immutable, g.Host.Permissions.PermissionsOf(P));
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R | Immutable)));
    }

    [Fact]
    public void A_refused_immutable_change_fails_the_whole_call_even_after_a_valid_entry()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));
        var before = Snapshot(g);
        int ranges = g.Host.Permissions.RangeCount;
        Assert.Equal(EPerm, g.ProtectMemory((0x300000, 4, R), (P, 1, R | W | Immutable), (0x310000, 1, X)));
        Assert.Equal(before, Snapshot(g));
        Assert.Equal(ranges, g.Host.Permissions.RangeCount);
        Assert.Null(g.Host.Permissions.PermissionsOf(0x300000));
    }

    [Fact]
    public void Immutable_set_earlier_in_the_same_call_binds_the_later_entries()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R | Immutable), (P, 1, R | W)));
        Assert.Null(g.Host.Permissions.PermissionsOf(P));
        Assert.Equal(0, g.ProtectMemory((P, 1, R | W), (P, 1, R | Immutable)));      // the other way round is fine
        Assert.Equal(R | Immutable, g.Host.Permissions.PermissionsOf(P));
    }

    [Fact]
    public void Mutable_pages_change_freely_permissions_are_absolute()
    {
        using var g = new HekiGuestMachine();
        foreach (ulong perms in new[] { R | W, R, R | W | X, 0UL, X, W, R | X, R | W | X })
        {
            Assert.Equal(0, g.ProtectMemory((P, 1, perms)));
            Assert.Equal(perms, g.Host.Permissions.PermissionsOf(P));
        }
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));      // and may become immutable at any time
        Assert.Equal(R | Immutable, g.Host.Permissions.PermissionsOf(P));
    }

    [Fact]
    public void Overlapping_entries_in_one_call_are_applied_in_order()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 4, R | W), (P + 0x1000, 2, R), (P + 0x2000, 1, X)));
        Assert.Equal(new ulong?[] { R | W, R, X, R | W }, Enumerable.Range(0, 4).Select(i => g.Host.Permissions.PermissionsOf(P + (ulong)i * 0x1000)).ToArray());

        using var h = new HekiGuestMachine();
        Assert.Equal(0, h.ProtectMemory((P + 0x2000, 1, X), (P + 0x1000, 2, R), (P, 4, R | W)));
        Assert.Equal(new ulong?[] { R | W, R | W, R | W, R | W }, Enumerable.Range(0, 4).Select(i => h.Host.Permissions.PermissionsOf(P + (ulong)i * 0x1000)).ToArray());
    }

    [Fact]
    public void The_array_is_read_from_guest_physical_memory_at_the_moment_of_the_call()
    {
        using var g = new HekiGuestMachine();
        // The guest writes its array with ordinary stores, then calls.
        var run = g.Execute(a =>
        {
            a.mov(rdi, Array0);
            a.mov(rax, P);
            a.mov(__qword_ptr[rdi], rax);
            a.mov(__qword_ptr[rdi + 8], 3);
            a.mov(__qword_ptr[rdi + 16], (int)(R | X));
            a.mov(eax, HypercallBase + 2);
            a.mov(rbx, rdi);
            a.mov(ecx, 1);
            a.xor(edx, edx);
            a.vmcall();
        });
        run.AssertCompleted();
        Assert.Equal(0UL, g.Cpu.Gpr[0]);
        Assert.Equal(R | X, g.Host.Permissions.PermissionsOf(P + 0x2000));
        Assert.Null(g.Host.Permissions.PermissionsOf(P + 0x3000));
    }

    /// <summary>docs/abi.md section 3 gives the order of the checks; a call failing two of them
    /// returns the code of the earlier one.</summary>
    [Theory]
    [InlineData(Array0, 65UL, 1UL, EInval)]                   // flags before the per-call limit
    [InlineData(0x1E0004UL, 65UL, 0UL, E2Big)]                // per-call limit before alignment
    [InlineData(Mem + 0x1000, 65UL, 0UL, E2Big)]              // per-call limit before EFAULT
    [InlineData(Mem + 4, 1UL, 0UL, EInval)]                   // alignment before EFAULT
    [InlineData(Mem + 4, 1UL, 2UL, EInval)]
    public void Call_level_checks_come_in_the_documented_order(ulong gpa, ulong count, ulong flags, long expected)
    {
        using var g = new HekiGuestMachine();
        for (ulong at = Array0; at < Array0 + 65 * 24; at += 24) g.WriteRanges(at, (P, 1, R));
        g.WriteRanges(0x1E0004, (P, 1, R));
        Assert.Equal(expected, g.Hypercall(ProtectMemory, gpa, count, flags));
        Assert.True(g.Host.Permissions.IsEmpty);
    }

    [Fact]
    public void Entries_then_the_total_then_the_one_way_rule()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));
        // An immutable page widened by the first entry, a malformed second entry: -22, not -1.
        Assert.Equal(EInval, g.ProtectMemory((P, 1, R | W | Immutable), (P + 8, 1, R)));
        Assert.Empty(g.Events.Denials);

        // Fill the total up to 4096 ranges.
        for (ulong i = 0; i < 64; i++) g.WriteRanges(Array0 + i * 24, (0x300000 + i * 0x1000, 1, R | W));
        for (int call = 0; call < 63; call++) Assert.Equal(0, g.Hypercall(ProtectMemory, Array0, 64, 0));
        Assert.Equal(0, g.Hypercall(ProtectMemory, Array0, 63, 0));
        Assert.Equal(4096, g.Host.Permissions.RangeCount);

        Assert.Equal(EInval, g.ProtectMemory((P + 1, 1, R)));                   // entries before the total
        Assert.Equal(E2Big, g.ProtectMemory((P, 1, R | W | Immutable)));        // the total before the one-way rule
        Assert.Empty(g.Events.Denials);                                         // malformed calls are not denials
        Assert.Equal(R | Immutable, g.Host.Permissions.PermissionsOf(P));
    }
}
