using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The harness must turn every way a kernel can die into a failure with a reason and the serial
/// tail, within its deadline. The kernel's hidden crash.* groups die on purpose.
/// </summary>
public sealed class CrashBootTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HangDeadline = TimeSpan.FromSeconds(8);

    private static readonly string[] RuntimeFailureGroups =
        ["crash.null", "crash.bounds", "crash.cast", "crash.oom", "crash.cookie", "crash.divzero"];

    /// <summary>Every host crossed with every runtime-failure group.</summary>
    public static TheoryData<string, string> CrashGroups
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var host in GuestHosts.All)
            {
                foreach (var group in RuntimeFailureGroups)
                {
                    data.Add(host, group);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task HangIsCutAtTheDeadlineAndShowsTheTail(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-crash-hang", HangDeadline, "tests=crash.hang"),
            output);

        Assert.True(outcome.TimedOut, BootFailureReport.Context(outcome));
        Assert.Null(outcome.ExitCode);
        Assert.InRange(outcome.Elapsed, HangDeadline, HangDeadline + TimeSpan.FromSeconds(10));
        Assert.Null(outcome.Transcript.Summary);
        var hang = BootAssert.HasFinding(outcome, BootFindingKind.Hang);
        Assert.Contains("8 s deadline", hang.Message, StringComparison.Ordinal);

        // The report carries the last lines, among them the kernel's last words before the hang.
        var lastLine = outcome.Transcript.Lines.Last(line => line.Length > 0);
        Assert.Contains("crash.hang", string.Join('\n', outcome.Transcript.Tail(BootFailureReport.TailLines)), StringComparison.Ordinal);
        var report = BootFailureReport.Format(outcome, BootDiagnosis.Diagnose(outcome, null));
        Assert.Contains("  | " + lastLine + "\n", report, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task TripleFaultExitsWithoutSummary(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-crash-triple", KernelBoot.Deadline, "tests=crash.triple"),
            output);

        Assert.False(outcome.TimedOut, BootFailureReport.Context(outcome));
        Assert.NotEqual(GuestExitCodes.AllPassed, outcome.ExitCode);
        Assert.Null(outcome.Transcript.Summary);
        var finding = BootAssert.HasFinding(outcome, BootFindingKind.NoSummary);
        Assert.Contains("without a SUMMARY line", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task PanicPrintsAPanicLineAndExitsFive(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-crash-panic", KernelBoot.Deadline, "tests=crash.panic"),
            output);

        BootAssert.ExitedWith(outcome, GuestExitCodes.Panic);
        var panic = BootAssert.HasFinding(outcome, BootFindingKind.Panic);
        Assert.Contains("deliberate panic", panic.Message, StringComparison.Ordinal);
        Assert.Null(outcome.Transcript.Summary);
    }

    [Theory]
    [MemberData(nameof(CrashGroups))]
    public async Task RuntimeFailureFailsFastWithAPanic(string host, string group)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-" + group, KernelBoot.Deadline, "tests=" + group),
            output);

        BootAssert.ExitedWith(outcome, GuestExitCodes.Panic);
        BootAssert.HasFinding(outcome, BootFindingKind.Panic);
        Assert.Null(outcome.Transcript.Summary);
    }
}
