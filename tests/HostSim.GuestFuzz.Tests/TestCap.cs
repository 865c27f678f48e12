namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>The per-seed wall-clock cap in these tests: 10 s instead of the fuzzer's 2 s, because
/// <c>make test</c> runs other suites (QEMU boots) beside this one on a 2-core machine and a clean
/// seed (at most ~0.2 s alone) must not be taken for a hang there.</summary>
internal static class TestCap
{
    public static readonly TimeSpan Value = TimeSpan.FromSeconds(10);
}
