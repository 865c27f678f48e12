using System.Text;
using HekiGuest.HostSim.Control.Qmp;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>How the bytes a QMP client sends are cut into JSON texts.</summary>
public sealed class QmpFramerTests
{
    private static List<string> Push(QmpFramer f, string s) => f.Push(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Objects_end_at_their_closing_brace_on_one_line_or_many()
    {
        var f = new QmpFramer();
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], Push(f, "{\"a\":1}{\"b\":2}"));
        Assert.Empty(Push(f, "{\"c\":\n"));
        Assert.Equal(["{\"c\":\n[1,{}]}"], Push(f, "[1,{}]}\n"));
    }

    [Fact]
    public void Braces_and_quotes_inside_strings_do_not_count()
    {
        var f = new QmpFramer();
        Assert.Equal(["{\"s\":\"} \\\" {\"}"], Push(f, "{\"s\":\"} \\\" {\"}"));
    }

    [Fact]
    public void A_text_may_arrive_a_byte_at_a_time()
    {
        var f = new QmpFramer();
        var all = new List<string>();
        foreach (char ch in "{\"execute\":\"stop\"}") all.AddRange(Push(f, ch.ToString()));
        Assert.Equal(["{\"execute\":\"stop\"}"], all);
    }

    [Fact]
    public void Stray_text_outside_brackets_ends_at_a_newline()
    {
        var f = new QmpFramer();
        Assert.Equal(["nonsense"], Push(f, "  \r\n nonsense\n"));
        Assert.Equal(["}"], Push(f, "}"));
    }

    [Fact]
    public void An_over_long_text_becomes_one_marker_and_the_stream_recovers_after_the_next_newline()
    {
        var f = new QmpFramer();
        var texts = f.Push(Encoding.UTF8.GetBytes("{\"x\":\"" + new string('a', QmpFramer.MaxText + 10)));
        Assert.Equal([QmpFramer.TooLong], texts);
        Assert.Empty(Push(f, "aaaa\"}"));                 // still the over-long text
        Assert.Equal(["{\"ok\":1}"], Push(f, "\n{\"ok\":1}"));
    }

    [Fact]
    public void Clear_drops_a_half_text()
    {
        var f = new QmpFramer();
        Assert.Empty(Push(f, "{\"execute\":\"st"));
        f.Clear();
        Assert.Equal(["{}"], Push(f, "{}"));
    }
}
