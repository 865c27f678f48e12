using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Gdb.Tests.Support;

/// <summary>A VSM host as the stub sees it, with the current VTL set by the test.</summary>
internal sealed class FakeVtlView(bool optIn) : IGdbVtlView
{
    private volatile int _current;

    public int CurrentVtl
    {
        get => _current;
        set => _current = value;
    }

    public int HighestVtl => 1;

    public bool Vtl1DebugOptIn => optIn;

    public VtlPrivateState? Vtl1 { get; set; }

    public VtlPrivateState? Saved(int vtl) => vtl == CurrentVtl ? null : vtl == 1 ? Vtl1 : null;
}
