namespace HekiGuest.Tests.Boot;

public sealed class ExpectedTestsTests
{
    [Fact]
    public void ParsesEntriesSkipOkCommentsAndBlankLines()
    {
        var expected = ExpectedTests.Parse("""
            # the runtime group
            runtime: string concat

              skip-ok boot: module contents
            serial: hex: padded
            """, "expected-tests.txt");

        Assert.Equal(3, expected.Entries.Count);
        Assert.Equal(new ExpectedTest(new TestId("runtime", "string concat"), false, 2), expected.Entries[0]);
        Assert.Equal(new ExpectedTest(new TestId("boot", "module contents"), true, 4), expected.Entries[1]);
        Assert.Equal(new TestId("serial", "hex: padded"), expected.Entries[2].Id);
    }

    [Theory]
    [InlineData("just words", "f.txt:1: want 'group: name'")]
    [InlineData("ok: a\nskip-ok nogroup", "f.txt:2: want 'group: name'")]
    [InlineData("a: b\n\na: b", "f.txt:3: 'a: b' is already listed on line 1")]
    public void RejectsMalformedLinesAndDuplicates(string text, string message)
    {
        var error = Assert.Throws<BootSetupException>(() => ExpectedTests.Parse(text, "f.txt"));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForGroupsKeepsOnlyThoseGroups()
    {
        var expected = ExpectedTests.Parse("runtime: a\nboot: b\nserial: c\n", "f");

        var runtime = expected.ForGroups(["runtime", "serial"]);

        Assert.Equal(["runtime: a", "serial: c"], runtime.Entries.Select(e => e.Id.ToString()));
    }

    [Fact]
    public void TheShippedFileParsesAndListsNoHiddenCrashGroup()
    {
        var shipped = ExpectedTests.LoadDefault();

        Assert.NotEmpty(shipped.Entries);
        Assert.DoesNotContain(shipped.Entries, e => e.Id.Group.StartsWith("crash.", StringComparison.Ordinal));
    }
}
