namespace HekiGuest.Tests.Boot;

/// <summary>'skip-on HOST' lines: the test must SKIP on those hosts and PASS elsewhere, and the
/// cross-host comparison accepts exactly that difference.</summary>
public sealed class HostSpecificExpectationTests
{
    private static readonly ExpectedTests Expected = ExpectedTests.Parse(
        "runtime: a\nskip-on qemu heki: attack\n", "expected-tests.txt");

    [Fact]
    public void ParsesHostListAndRejectsAMissingHost()
    {
        var parsed = ExpectedTests.Parse("skip-on qemu,kvm heki: b: c\n", "f");
        var entry = Assert.Single(parsed.Entries);
        Assert.Equal(new TestId("heki", "b: c"), entry.Id);
        Assert.Equal(["qemu", "kvm"], entry.SkipOn);
        Assert.True(entry.MustSkipOn("kvm"));
        Assert.False(entry.MustSkipOn("hostsim"));
        Assert.False(entry.SkipAllowed);

        var error = Assert.Throws<BootSetupException>(() => ExpectedTests.Parse("skip-on heki: b\n", "f"));
        Assert.StartsWith("f:1: want 'skip-on HOST[,HOST] group: name'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipOnTheNamedHostPasses()
    {
        var outcome = Outcome("qemu", "PASS: runtime: a\nSKIP: heki: attack (no interface)\nSUMMARY: 2 tests, 1 skipped\n");
        Assert.Empty(BootDiagnosis.Diagnose(outcome, Expected));
    }

    [Fact]
    public void PassOnTheNamedHostIsAFinding()
    {
        var outcome = Outcome("qemu", "PASS: runtime: a\nPASS: heki: attack\nSUMMARY: 2 tests\n");
        var finding = Assert.Single(BootDiagnosis.Diagnose(outcome, Expected));
        Assert.Equal(BootFindingKind.ExpectedTestNotPassed, finding.Kind);
        Assert.Contains("to SKIP on qemu", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipOnAnotherHostIsAFinding()
    {
        var outcome = Outcome("hostsim", "PASS: runtime: a\nSKIP: heki: attack (no interface)\nSUMMARY: 2 tests, 1 skipped\n");
        var finding = Assert.Single(BootDiagnosis.Diagnose(outcome, Expected));
        Assert.Equal(BootFindingKind.ExpectedTestNotPassed, finding.Kind);
        Assert.Contains("may SKIP only on qemu", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparisonAcceptsOnlyTheDeclaredDifference()
    {
        var qemu = TranscriptParser.Parse("PASS: runtime: a\nSKIP: heki: attack (x)\nSUMMARY: 2 tests, 1 skipped\n");
        var hostsim = TranscriptParser.Parse("PASS: runtime: a\nPASS: heki: attack\nSUMMARY: 2 tests\n");
        var hostsimSkipping = TranscriptParser.Parse("SKIP: runtime: a (x)\nPASS: heki: attack\nSUMMARY: 2 tests, 1 skipped\n");

        Assert.Empty(ResultSetComparison.Differences("qemu", qemu, "hostsim", hostsim, Expected));
        Assert.Single(ResultSetComparison.Differences("qemu", qemu, "hostsim", hostsim));
        Assert.Single(ResultSetComparison.Differences("hostsim", qemu, "qemu", hostsim, Expected));      // hosts swapped: not the declared way round
        Assert.Contains("runtime: a", Assert.Single(ResultSetComparison.Differences("qemu", qemu, "hostsim", hostsimSkipping, Expected)), StringComparison.Ordinal);
    }

    private static BootOutcome Outcome(string host, string serial) =>
        new(host, BootRequest.Pvh("canned", TimeSpan.FromSeconds(8)), host, 1, false, TimeSpan.FromSeconds(1), serial, string.Empty, null);
}
