using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>Bad input to the kernel: an unknown test name must be a FAIL naming it and exit status 3.</summary>
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
}
