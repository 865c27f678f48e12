using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Bad input to the kernel: an unknown test name, boot information that disagrees with the command
/// line, a missing module. Each must be a FAIL line naming the test and exit status 3.
/// </summary>
public sealed class BadInputBootTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task UnknownTestNameIsAFailNamingItAndExitThree(string host)
    {
        var outcome = await KernelBoot.BootAsync(
            host,
            BootRequest.Pvh("pvh-unknown-test", KernelBoot.Deadline, "tests=serial,no.such.group"),
            output);

        BootAssert.ExitedWith(outcome, GuestExitCodes.TestFailed);
        var transcript = outcome.Transcript;
        var failure = Assert.Single(transcript.UnexpectedFailures);
        Assert.Equal(new TestId("tests", "unknown test 'no.such.group'"), failure.Id);
        Assert.Empty(transcript.Problems);
        Assert.Equal(1, transcript.Summary?.UnexpectedFailures);

        // The known group still ran, so a bad name does not hide the good ones.
        Assert.Contains(transcript.Results, r => r.Id.Group == "serial" && r.Kind == ResultKind.Pass);
        var findings = BootDiagnosis.Diagnose(outcome, ExpectedTests.LoadDefault().ForGroups(["serial"]));
        Assert.Equal([BootFindingKind.TestFailure, BootFindingKind.WrongExitCode], findings.Select(f => f.Kind));
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task MemorySizeThatDisagreesWithTheHostIsAFail(string host)
    {
        var request = new BootRequest(BootMedium.Pvh, "modules=1 mem=64 tests=boot", KernelBoot.Deadline, "pvh-wrong-mem");

        var outcome = await KernelBoot.BootAsync(host, request, output);

        AssertOnlyFailure(outcome, new TestId("boot", "memory total matches the host"));
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task MissingModuleIsAFail(string host)
    {
        var request = new BootRequest(BootMedium.Pvh, "modules=1 mem=128 tests=boot", KernelBoot.Deadline, "pvh-no-module")
        {
            WithoutModule = true,
        };

        var outcome = await KernelBoot.BootAsync(host, request, output);

        AssertOnlyFailure(outcome, new TestId("boot", "module count matches the host"));
    }

    [Theory]
    [MemberData(nameof(GuestHosts.All), MemberType = typeof(GuestHosts))]
    public async Task MalformedNumbersOnTheCommandLineAreFailsNotSkips(string host)
    {
        var request = new BootRequest(BootMedium.Pvh, "modules=x mem=abc tests=boot", KernelBoot.Deadline, "pvh-malformed-numbers");

        var outcome = await KernelBoot.BootAsync(host, request, output);

        BootAssert.ExitedWith(outcome, GuestExitCodes.TestFailed);
        var failures = outcome.Transcript.UnexpectedFailures.Select(f => f.Id).ToList();
        Assert.Equal(
            [new TestId("boot", "memory total matches the host"), new TestId("boot", "module count matches the host")],
            failures);
        Assert.DoesNotContain(outcome.Transcript.Results, r => r.Kind == ResultKind.Skip);
    }

    private static void AssertOnlyFailure(BootOutcome outcome, TestId test)
    {
        BootAssert.ExitedWith(outcome, GuestExitCodes.TestFailed);
        var failure = Assert.Single(outcome.Transcript.UnexpectedFailures);
        Assert.Equal(test, failure.Id);
        Assert.False(string.IsNullOrWhiteSpace(failure.Detail), $"'{failure}' gives no detail");
        Assert.Empty(outcome.Transcript.Problems);
        Assert.Equal(1, outcome.Transcript.Summary?.UnexpectedFailures);
    }
}
