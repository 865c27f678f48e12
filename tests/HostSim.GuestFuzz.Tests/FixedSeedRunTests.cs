using Xunit.Abstractions;

namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>
/// The short deterministic run inside <c>make test</c>: seeds 1-300 (50 per mode) with the default
/// budget must all be clean but for the known core issues listed below. The 1 GiB alias window is left out here: with it, a REP string
/// instruction with a huge count can run for seconds inside one instruction (a known hostsim core
/// issue that <c>make fuzz-guest</c> reports as a hang), which would make this run's time depend on
/// that bug; everything else is the same guest.
/// </summary>
public sealed class FixedSeedRunTests(ITestOutputHelper output)
{
    public const long FirstSeed = 1, Seeds = 300;

    /// <summary>
    /// Failures of known hostsim core bugs, reported to the core's owners and tolerated here only
    /// by their exact signature (each is printed in the test output). Remove an entry when its fix
    /// lands; every other failure fails the test.
    /// <list type="bullet">
    /// <item>A guest jump to 0xFFFF_FFFF_FFFF_FFFF (<c>mov rax, -1; jmp rax</c>, also CALL/RET/SYSRETQ)
    /// sets RIP to <c>Cpu.NoBreak</c>, the "no breakpoint" sentinel: the CPU stops at a breakpoint
    /// without executing and <c>VirtualMachine.Run</c> spins until its timeout.</item>
    /// <item>The page walker sets accessed/dirty bits without the host permission check: a guest
    /// that points a paging structure at an immutable page (rodata) writes into it (the check
    /// names a change that only set those bits of present entries).</item>
    /// <item>Exception deliveries do not count against <c>RunLimits.MaxInstructions</c>: a guest
    /// whose handler's first fetch faults again (its page unmapped by the random code) loops in
    /// delivery without retiring anything until the wall-clock timeout.</item>
    /// </list>
    /// </summary>
    public static readonly string[] KnownCoreIssues =
    [
        "hang: RIP = 0xffffffffffffffff (Cpu.NoBreak), no instruction executes",
        "protection broken: " + ProtectionSnapshot.AccessedDirtyWrite,
        "hang: exception delivery loop (#PF at the handler's own fetch), nothing retires",
        "hang: exception delivery loop (#MC at the handler's own fetch), nothing retires",
    ];

    [Fact]
    public void Fixed_seeds_across_all_six_modes_are_clean()
    {
        var options = new FuzzOptions { LargeAliasWindow = false, SeedTimeout = TestCap.Value };
        var summary = new FuzzSummary();
        for (long seed = FirstSeed; seed < FirstSeed + Seeds; seed++) summary.Add(SeedRunner.Run(seed, options));
        var table = new StringWriter();
        summary.PrintTable(table, options, FirstSeed);
        output.WriteLine(table.ToString());
        Assert.Equal((int)Seeds, summary.Seeds);
        var known = summary.Failed.Where(f => f.Failures.All(x => KnownCoreIssues.Contains(x.Signature))).ToList();
        foreach (var f in known) output.WriteLine($"known core issue, tolerated: seed {f.Seed} ({f.Mode}): {f.Failures[0].Signature}");
        var unknown = summary.Failed.Except(known).ToList();
        Assert.True(unknown.Count == 0, "failing seeds:\n" + string.Join("\n", unknown.Select(f => $"seed {f.Seed} ({f.Mode}): {string.Join("; ", f.Failures)}")));
        Assert.True(summary.Instructions > Seeds * 5_000, $"only {summary.Instructions} instructions ran");
        Assert.True(summary.ExceptionsDelivered > Seeds, "the guest's handler should recover many faults");
    }

    [Fact]
    public void Every_mode_is_covered_by_six_consecutive_seeds()
    {
        var modes = Enumerable.Range(0, 6).Select(i => FuzzMode.ForSeed(FirstSeed + i)).ToHashSet();
        Assert.Equal(FuzzMode.All.ToHashSet(), modes);
        Assert.Equal(FuzzMode.ForSeed(-5), FuzzMode.ForSeed(1));
    }
}
