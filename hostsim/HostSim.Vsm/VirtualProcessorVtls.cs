namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The VTL state of one virtual processor (docs/vtl.md section 7): which VTLs are enabled for it,
/// which one it runs in, and the private registers of each VTL while it is not running (slot
/// <c>[CurrentVtl]</c> is stale: the live values are in the CPU). Kept per (VP, VTL) so more
/// virtual processors can be added later.
/// </summary>
public sealed class VirtualProcessorVtls(uint index, int vtls)
{
    private readonly VtlPrivateState?[] _saved = new VtlPrivateState?[vtls];
    private readonly bool[] _enabled = CreateEnabled(vtls);
    private readonly UInt128[] _pendingEvent = new UInt128[vtls];

    public uint Index { get; } = index;

    /// <summary>The VTL this VP runs in now.</summary>
    public int CurrentVtl { get; private set; }

    public bool IsEnabled(int vtl) => vtl >= 0 && vtl < _enabled.Length && _enabled[vtl];

    /// <summary>PendingEvent0 of <paramref name="vtl"/>: an exception a higher VTL made pending
    /// for it, delivered when it is next entered (docs/vtl.md section 10).</summary>
    public UInt128 PendingEvent(int vtl) => _pendingEvent[vtl];

    internal void SetPendingEvent(int vtl, UInt128 value) => _pendingEvent[vtl] = value;

    /// <summary>VTL1's CrInterceptControl for VTL0 on this VP (docs/vtl.md section 12).</summary>
    public ulong CrInterceptControl { get; internal set; }

    /// <summary>VTL1's CR0 and CR4 intercept masks: a write is intercepted only when it changes a masked bit.</summary>
    public ulong CrInterceptCr0Mask { get; internal set; }

    public ulong CrInterceptCr4Mask { get; internal set; }

    /// <summary>The private state saved for <paramref name="vtl"/> (null before it is enabled).</summary>
    public VtlPrivateState? Saved(int vtl) => _saved[vtl];

    /// <summary>Enables <paramref name="vtl"/> with its initial private state (does not switch).</summary>
    internal void Enable(int vtl, VtlPrivateState initial)
    {
        _enabled[vtl] = true;
        _saved[vtl] = initial;
    }

    /// <summary>Saves the CPU's private registers for the current VTL and loads <paramref name="vtl"/>'s.</summary>
    internal void SwitchTo(Cpu.Cpu cpu, int vtl)
    {
        var outgoing = _saved[CurrentVtl] ??= new VtlPrivateState();
        outgoing.Capture(cpu);
        _saved[vtl]!.Load(cpu, vtl);
        CurrentVtl = vtl;
    }

    /// <summary>VM reset: back to VTL0 only (the CPU's own reset supplies VTL0's registers).</summary>
    internal void Reset()
    {
        Array.Clear(_saved);
        Array.Clear(_enabled);
        Array.Clear(_pendingEvent);
        _enabled[0] = true;
        CurrentVtl = 0;
        CrInterceptControl = 0;
        CrInterceptCr0Mask = 0;
        CrInterceptCr4Mask = 0;
    }

    private static bool[] CreateEnabled(int vtls)
    {
        var enabled = new bool[vtls];
        enabled[0] = true;
        return enabled;
    }
}
