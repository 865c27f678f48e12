using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Breakpoints and watchpoints owned by a host debugger (the gdb stub), separate from the guest's
/// DR0-DR7: the guest never sees them in its debug registers, DR6 or #DB, and its own breakpoints
/// do not disturb them. Nothing is written into guest memory.
///
/// Instruction breakpoints are checked like <see cref="BreakAt"/>: once per block dispatch, and a
/// block that would run past one is cut short, so execution stays in the block loop at full
/// speed between them. Watchpoints reuse <see cref="DebugBreakpoints"/> (the DR7 decoding and
/// matching) on a host-owned register set: a watched linear page never enters the data TLBs, so
/// only accesses to it take the slow path, which compares them. A hit ends the run after the
/// instruction (a trap, as on x86) with <see cref="HostDebugEvent"/> recorded.
/// Cost with none set: one predictable branch per block dispatch.
/// </summary>
public sealed partial class Cpu
{
    private ulong[] _hostBreaks = [];
    private bool _hostBreaksOn;
    private ulong _hostBreakSkipPos = ulong.MaxValue;
    private DebugBreakpoints _hostWatch;
    private uint _hostWatchReadOnly;
    private HostDebugEvent _hostEvent;

    /// <summary>The host's instruction breakpoints (RIPs; CS-relative outside 64-bit mode).</summary>
    public IReadOnlyList<ulong> HostBreakpoints => _hostBreaks;

    /// <summary>Replaces the host's instruction breakpoints; they take effect at the next block dispatch.</summary>
    public void SetHostBreakpoints(IEnumerable<ulong> rips)
    {
        _hostBreaks = [.. rips.Distinct()];
        _hostBreaksOn = _hostBreaks.Length != 0;
        _exit = true; // a running block may already run past a new breakpoint: re-dispatch
    }

    /// <summary>Set before <see cref="Run"/> to resume from a host breakpoint: its first
    /// instruction runs even when a host breakpoint is at its RIP (like RFLAGS.RF for DR7).</summary>
    public bool HostBreakResume { get; set; }

    /// <summary>
    /// Replaces the host's watchpoints: <paramref name="registers"/> holds DR0-DR7 in the
    /// architectural encoding (only the addresses and DR7's enable, R/W and LEN fields are used;
    /// R/W 01 write, 11 read or write); slots in <paramref name="readOnlyMask"/> ignore writes (a
    /// read watchpoint). The data TLBs are flushed so watched pages leave them.
    /// </summary>
    public void SetHostWatchpoints(ulong[] registers, uint readOnlyMask)
    {
        ArgumentNullException.ThrowIfNull(registers);
        if (registers.Length != 8) throw new ArgumentException("DR0-DR7 expected", nameof(registers));
        _hostWatch = DebugBreakpoints.Decode(registers, cr4De: false);
        _hostWatchReadOnly = readOnlyMask;
        FlushTlb();
    }

    /// <summary>The host's decoded watchpoints.</summary>
    public DebugBreakpoints HostWatchpoints => _hostWatch;

    /// <summary>Returns and clears the last host debug stop (kind None when there was none).</summary>
    public HostDebugEvent TakeHostDebugEvent()
    {
        var e = _hostEvent;
        _hostEvent = default;
        return e;
    }

    /// <summary>Run start: a resume from a breakpoint skips it for the run's first instruction.</summary>
    private void ArmHostBreakResume()
    {
        _hostBreakSkipPos = HostBreakResume ? _recentCount : ulong.MaxValue;
        HostBreakResume = false;
    }

    /// <summary>Block dispatch at <paramref name="rip"/>: true (event recorded) when a host breakpoint stops it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool HostBreakHere(ulong rip, ulong pos)
    {
        if (pos == _hostBreakSkipPos) return false;
        foreach (ulong b in _hostBreaks)
        {
            if (b == rip)
            {
                _hostEvent = new HostDebugEvent(HostDebugEventKind.Breakpoint, rip, 0, false);
                return true;
            }
        }
        return false;
    }

    /// <summary>How many of the block's first <paramref name="n"/> instructions run before a host
    /// breakpoint (the first one always runs: it was checked at dispatch).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int HostBreakLimit(Block b, ulong rip, int n)
    {
        ulong window = rip & ~0xFFFUL;
        foreach (ulong bp in _hostBreaks)
        {
            if (bp - window >= 0x2000) continue;
            ulong r = rip;
            for (int k = 0; k < n; k++)
            {
                if (k > 0 && r == bp)
                {
                    n = k;
                    break;
                }
                ref var u = ref b.Ops[k];
                r += u.Len;
                if (u.K is UopKind.Jmp or UopKind.Call) r += u.Imm;
            }
        }
        return n;
    }

    /// <summary>A data access in the slow path matched against the host's watchpoints.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckHostWatchpoints(ulong la, int size, bool write)
    {
        uint hits = _hostWatch.MatchData(la, size, write);
        if (write) hits &= ~_hostWatchReadOnly;
        if (hits != 0 && _hostEvent.Kind == HostDebugEventKind.None)
        {
            _hostEvent = new HostDebugEvent(HostDebugEventKind.Watchpoint, la, hits, write);
            RequestStop();
        }
    }
}
