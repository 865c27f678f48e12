namespace HekiGuest.Tests.Boot;

/// <summary>
/// Host exit codes produced by the guest through isa-debug-exit at port 0xf4: the host exits with
/// (value &lt;&lt; 1) | 1. QEMU does this; hostsim follows the same convention.
/// </summary>
public static class GuestExitCodes
{
    /// <summary>Guest wrote 0: every test passed.</summary>
    public const int AllPassed = 1;

    /// <summary>Guest wrote 1: at least one test failed (or an unknown test was asked for).</summary>
    public const int TestFailed = 3;

    /// <summary>Guest wrote 2: a kernel panic (fail-fast).</summary>
    public const int Panic = 5;

    /// <summary>A short description of <paramref name="exitCode"/> for messages.</summary>
    public static string Describe(int exitCode) => exitCode switch
    {
        AllPassed => "1 (guest reported all passed)",
        TestFailed => "3 (guest reported a failure)",
        Panic => "5 (guest panicked)",
        0 => "0 (host exited without a debug-exit write: triple fault with -no-reboot, or the guest shut down)",
        _ => $"{exitCode} (not a guest exit status; the host itself failed?)",
    };
}
