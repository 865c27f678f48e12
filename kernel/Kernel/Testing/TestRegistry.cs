using HekiGuest.Platform.Testing;

namespace HekiGuest.Kernel.Testing;

// Runs the groups a command line selects: all visible groups when tests= is absent, else the
// comma-separated names in order. Unknown names are FAILs naming them.
public sealed class TestRegistry
{
    private readonly ITestGroup[] _groups = new ITestGroup[64];
    private int _count;

    public void Add(ITestGroup g)
    {
        if (_count == _groups.Length) HekiGuest.Platform.Runtime.Panic.Stop("too many test groups");
        _groups[_count++] = g;
    }

    public int Count => _count;

    public ITestGroup Find(string name)
    {
        for (int i = 0; i < _count; i++)
            if (_groups[i].Name == name) return _groups[i];
        return null;
    }

    public void Run(TestContext t, string selection)
    {
        if (selection is null || selection.Length == 0)
        {
            for (int i = 0; i < _count; i++)
                if (!_groups[i].Hidden) RunOne(t, _groups[i]);
            return;
        }
        int start = 0;
        while (start <= selection.Length)
        {
            int end = selection.IndexOf(',', start);
            if (end < 0) end = selection.Length;
            if (end > start)
            {
                string name = selection.Substring(start, end - start);
                ITestGroup g = Find(name);
                if (g is null) { t.Group = "tests"; t.Out.Write("FAIL: tests: unknown test '").Write(name).Line("'"); t.Total++; t.Failed++; }
                else RunOne(t, g);
            }
            start = end + 1;
        }
    }

    private static void RunOne(TestContext t, ITestGroup g)
    {
        t.Group = g.Name;
        g.Run(t);
    }
}
