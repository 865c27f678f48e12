using HekiGuest.Platform.Drivers;

namespace HekiGuest.Platform.Testing;

// Test results for any guest in kvm-unit-tests format (the boot harness parses it):
// "PASS: group: name", "FAIL: group: name (detail)", "SKIP: group: name (reason)", closed by
// Summary's "SUMMARY:" line.
public sealed class TestContext
{
    private readonly TextOut _out;
    public string Group;
    public int Total, Failed, Skipped;

    public TestContext(TextOut output) { _out = output; }

    public TextOut Out => _out;

    public void Pass(string name)
    {
        Total++;
        _out.Write("PASS: ").Write(Group).Write(": ").Line(name);
    }

    public void Fail(string name, string detail)
    {
        Total++; Failed++;
        _out.Write("FAIL: ").Write(Group).Write(": ").Write(name).Write(" (").Write(detail).Line(")");
    }

    public void Skip(string name, string reason)
    {
        Total++; Skipped++;
        _out.Write("SKIP: ").Write(Group).Write(": ").Write(name).Write(" (").Write(reason).Line(")");
    }

    public bool Check(bool condition, string name, string detail)
    {
        if (condition) Pass(name); else Fail(name, detail);
        return condition;
    }

    public bool Equal(long actual, long expected, string name)
    {
        if (actual == expected) { Pass(name); return true; }
        Total++; Failed++;
        _out.Write("FAIL: ").Write(Group).Write(": ").Write(name).Write(" (expected ").Dec(expected).Write(", got ").Dec(actual).Line(")");
        return false;
    }

    public bool EqualHex(ulong actual, ulong expected, string name)
    {
        if (actual == expected) { Pass(name); return true; }
        Total++; Failed++;
        _out.Write("FAIL: ").Write(Group).Write(": ").Write(name).Write(" (expected ").Hex(expected).Write(", got ").Hex(actual).Line(")");
        return false;
    }

    public bool EqualString(string actual, string expected, string name)
    {
        if (actual == expected) { Pass(name); return true; }
        Total++; Failed++;
        _out.Write("FAIL: ").Write(Group).Write(": ").Write(name).Write(" (expected '").Write(expected).Write("', got '").Write(actual).Line("')");
        return false;
    }

    public void Info(string text) => _out.Write("  ").Write(Group).Write(": ").Line(text);

    public void Summary()
    {
        _out.Write("SUMMARY: ").Dec(Total).Write(" tests");
        if (Failed > 0) _out.Write(", ").Dec(Failed).Write(" unexpected failures");
        if (Skipped > 0) _out.Write(", ").Dec(Skipped).Write(" skipped");
        _out.Line();
    }
}
