using HekiGuest.Abi;

namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>
/// The harness's checks can fail: protections broken behind the guest's back by the host, a seed
/// past its wall-clock cap, a host exception, an unimplemented instruction under --strict-ud are
/// each reported; a guest that never stops ends at its budget.
/// </summary>
public sealed class HarnessTests
{
    private static readonly FuzzOptions Options = new() { LargeAliasWindow = false, SeedTimeout = TestCap.Value };

    private static SeedResult RunWith(long seed, Action<FuzzGuest> tamper, FuzzOptions? options = null) =>
        SeedRunner.Run(seed, options ?? Options, beforeRun: tamper);

    private static SeedFailure Single(SeedResult r, FailureKind kind, string contains)
    {
        var failure = Assert.Single(r.Failures, f => f.Kind == kind && f.Message.Contains(contains, StringComparison.Ordinal));
        return failure;
    }

    [Fact]
    public void A_clean_seed_reports_no_failure()
    {
        var r = RunWith(2, _ => { });
        Assert.False(r.Failed, string.Join("; ", r.Failures));
    }

    [Fact]
    public void Arming_follows_the_plan()
    {
        using var guest = new FuzzGuest(4, FuzzMode.ForSeed(4));
        Assert.Null(guest.Arm());
        Assert.Equal(HekiCrBits.Cr4Allowed, guest.Host.Pins.Cr4PinnedHigh);
        Assert.Equal(HekiPermission.Read | HekiPermission.Execute | HekiPermission.Immutable, guest.Host.Permissions.PermissionsOf(GuestLayout.Text));
        Assert.Equal(HekiPermission.Read | HekiPermission.Immutable, guest.Host.Permissions.PermissionsOf(GuestLayout.Idt));
        Assert.Equal((int)(GuestLayout.RodataPages + GuestLayout.TextPages) + GuestLayout.CodePages, ProtectionSnapshot.Take(guest).ProtectedPages);
    }

    [Fact]
    public void A_write_to_immutable_rodata_is_detected()
    {
        var r = RunWith(2, g => g.Vm.Memory.Slice(GuestLayout.Rodata, 1)[0] ^= 0xFF);
        Single(r, FailureKind.ProtectionBroken, "protected byte changed at gpa 0x8000 (rodata, R immutable)");
    }

    [Fact]
    public void A_write_to_immutable_kernel_text_is_detected()
    {
        // the byte after the last stub's jmp: never executed, so only the check can notice it
        var r = RunWith(3, g => g.Vm.Memory.Slice(HandlerText.Stub(255) + 12, 1)[0] = 0x90);
        Single(r, FailureKind.ProtectionBroken, "(kernel text, RX immutable)");
    }

    [Fact]
    public void A_dropped_pin_is_detected()
    {
        var r = RunWith(2, g => g.Host.Pins.HostSet(4, high: true, HekiCrBits.Cr4Smep));
        Single(r, FailureKind.ProtectionBroken, "CR pins changed");
    }

    [Fact]
    public void A_pinned_bit_cleared_in_CR4_is_detected()
    {
        // seed 3 runs at CPL 3: its code cannot write CR4 back
        var r = RunWith(3, g => g.Cpu.Cr4 &= ~HekiCrBits.Cr4Smap);
        Single(r, FailureKind.ProtectionBroken, "pinned CR4 bits clear");
    }

    [Fact]
    public void Relaxed_host_permissions_are_detected()
    {
        // without the map the CPL 0 random code is free to rewrite the text, which is reported too
        var r = RunWith(2, g => g.Host.Permissions.Clear());
        Assert.Contains(r.Failures, f => f.Kind == FailureKind.ProtectionBroken && f.Message.StartsWith("host permissions of gpa 0x0 changed: RW immutable -> unnamed (all rights) (now writable and executable)", StringComparison.Ordinal));
        Assert.Contains(r.Failures, f => f.Message.Contains("pages changed host permissions in all", StringComparison.Ordinal));
    }

    [Fact]
    public void A_seed_past_its_cap_is_a_hang()
    {
        var r = RunWith(2, _ => Thread.Sleep(300), Options with { SeedTimeout = TimeSpan.FromMilliseconds(200) });
        Assert.Equal(SeedStop.Timeout, r.Stop);
        Single(r, FailureKind.Hang, "cap 0.2 s");
    }

    [Fact]
    public void A_host_exception_is_caught_and_reported_with_its_frames()
    {
        var r = RunWith(2, _ => throw new InvalidOperationException("boom"));
        Assert.Equal(SeedStop.HostException, r.Stop);
        var f = Single(r, FailureKind.HostException, "System.InvalidOperationException: boom");
        Assert.Contains(f.Detail, d => d.StartsWith("at: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_guest_that_never_stops_ends_at_its_budget()
    {
        // seed 1 runs 64-bit code at CPL 3: its code area is a NOP slide into the (non-executable)
        // user data, so every entry slides, is refused by the host and is sent back by the handler
        var options = Options with { MaxInstructions = 50_000 };
        var r = RunWith(1, g => g.Vm.Memory.Slice(GuestLayout.UserCode, GuestLayout.CodeSize).Fill(0x90), options);
        Assert.False(r.Failed, string.Join("; ", r.Failures));
        Assert.Equal(SeedStop.InstructionLimit, r.Stop);
        // the budget counts instructions retired plus exceptions delivered
        Assert.InRange(r.Instructions + r.ExceptionsDelivered, options.MaxInstructions, options.MaxInstructions + SeedRunner.BudgetSlack);
        Assert.True(r.Instructions > options.MaxInstructions / 2);
        Assert.True(r.DenialsByKind[(int)HekiGuest.HostSim.Heki.DenialKind.Memory] > 0);
    }

    [Fact]
    public void Strict_ud_turns_unimplemented_stops_into_failures()
    {
        // seed 1 (64-bit CPL 3) running FSIN, x87 arithmetic the core does not implement
        var fsin = Options with { Code = [0xD9, 0xFE], MaxInstructions = 2_000 };
        var lenient = SeedRunner.Run(1, fsin);
        Assert.True(lenient.UnimplementedStops > 0);
        Assert.DoesNotContain(lenient.Failures, f => f.Kind == FailureKind.Unimplemented);
        var strict = SeedRunner.Run(1, fsin with { StrictUd = true });
        Single(strict, FailureKind.Unimplemented, "unimplemented-instruction stops");
    }

    [Fact]
    public void Repro_code_runs_at_offset_0_in_the_seeds_mode()
    {
        // seed 1: 64-bit CPL 3; mov eax, 42; ud2; then the handler lands on INT3s until the budget
        ulong ud = 0;
        byte[] area = [];
        var r = SeedRunner.Run(1, Options with { Code = [0xB8, 0x2A, 0, 0, 0, 0x0F, 0x0B], MaxInstructions = 2_000 }, inspect: (g, _) =>
        {
            area = g.Vm.Memory.Slice(GuestLayout.UserCode, GuestLayout.CodeSize).ToArray();
            ud = g.ReadU64(GuestLayout.VectorCounts + 6 * 8);
        });
        Assert.False(r.Failed, string.Join("; ", r.Failures));
        Assert.Equal(SeedStop.InstructionLimit, r.Stop);
        Assert.Equal(new byte[] { 0xB8, 0x2A, 0, 0, 0, 0x0F, 0x0B, 0xCC }, area[..8]);
        Assert.All(area[7..], b => Assert.Equal(0xCC, b));
        Assert.True(ud >= 1, "the UD2 at offset 5 ran");     // the handler may land on the bytes again later
    }
}
