using HekiGuest.Platform.Testing;

namespace HekiGuest.Kernel.Testing;

// A named group of self-tests selectable with tests=NAME on the command line.
public interface ITestGroup
{
    string Name { get; }
    // Hidden groups (deliberate crashes, hangs) run only when named explicitly.
    bool Hidden { get; }
    void Run(TestContext t);
}
