namespace HekiGuest.Tests.Boot;

public sealed class DenialLedgerTests
{
    [Fact]
    public void EachAnnouncementMatchesExactlyOneEventAndNothingIsLeftOver()
    {
        var announced = Announced(
            "  heki: expect denial kind=cr-write cr=4 value=0x200e20",
            "  heki: expect denial kind=memory access=write gva=0x8000005040 gpa=0x101040");
        var events = Log(
            """{"event":"configure","vcpu":0,"source":"msr","rip":"0x1","cr":0,"pinned_high":"0x10000","pinned_low":"0x0"}""",
            """{"event":"denial","kind":"cr-write","vcpu":0,"rip":"0x10","cr":4,"value":"0x200E20"}""",
            """{"event":"denial","kind":"memory","vcpu":0,"rip":"0x20","gpa":"0x101040","gva":"0x8000005040","access":"write"}""");

        Assert.Empty(DenialLedger.Problems(announced, events));
    }

    [Fact]
    public void MissingDuplicateWrongFieldAndUnannouncedDenialsAreEachReported()
    {
        var announced = Announced(
            "heki: expect denial kind=cr-write cr=4 value=0x1",
            "heki: expect denial kind=msr-write msr=0x48454b01 value=0x2");
        var events = Log(
            """{"event":"denial","kind":"cr-write","vcpu":0,"rip":"0x10","cr":4,"value":"0x1"}""",
            """{"event":"denial","kind":"cr-write","vcpu":0,"rip":"0x11","cr":4,"value":"0x1"}""",
            """{"event":"denial","kind":"msr-write","vcpu":0,"rip":"0x12","msr":"0x48454b01","value":"0x3"}""");

        var problems = DenialLedger.Problems(announced, events);

        Assert.Equal(3, problems.Count);
        Assert.Contains("2 denial events for line 1", problems[0], StringComparison.Ordinal);
        Assert.Contains("no denial event for line 2", problems[1], StringComparison.Ordinal);
        Assert.Contains("did not announce", problems[2], StringComparison.Ordinal);
    }

    [Fact]
    public void AnnouncementWithoutKeyValueIsRejected()
    {
        Assert.Throws<FormatException>(() => Announced("heki: expect denial kind"));
    }

    private static IReadOnlyList<DenialExpectation> Announced(params string[] lines) =>
        DenialExpectation.FromTranscript(TranscriptParser.Parse(string.Join('\n', lines) + "\n"));

    private static IReadOnlyList<HostEvent> Log(params string[] lines)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, lines);
            return HostEvent.ReadLog(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
