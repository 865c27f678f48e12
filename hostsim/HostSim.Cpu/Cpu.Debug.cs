using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The debug architecture (SDM vol. 3 ch. 18): TF single-step traps, DR0-DR3/DR7 instruction
/// breakpoints (faults, suppressed by RF), data watchpoints and I/O breakpoints (traps, with the
/// LEN and R/W fields), DR6 status (B0-B3, BD, BS), DR7.GD, INT1/ICEBP.
///
/// Cost model: nothing per instruction while DR7 enables no breakpoint and TF is clear. The block
/// loop tests one field and RFLAGS.TF per block dispatch; only when that test is true
/// (<see cref="_dbgArmed"/> or TF) does it call <see cref="DebugBoundary"/> at every instruction
/// boundary and run one instruction per dispatch. Data watchpoints cost nothing on other pages:
/// a watched linear page never enters the read/write TLBs, so only accesses to it take the slow
/// path, which compares them with the watchpoints.
///
/// A trap found during an instruction (data or I/O breakpoint hit, single-step) is kept in
/// <see cref="_dbgPending"/> (DR6 bits) and delivered at the next instruction boundary, unless
/// that boundary follows MOV SS/POP SS, which inhibits debug exceptions for one instruction
/// (they are then delivered after the next one). A fault discards it, as the CPU does.
/// <see cref="DebugBreakpoints"/> decodes DR0-DR3/DR7 into the form the checks use; a host-side
/// debugger (a gdb stub) can reuse the same decoding and matching for its own hardware breakpoints.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>DR6 bits.</summary>
    public const ulong Dr6B0 = 1, Dr6Bd = 1UL << 13, Dr6Bs = 1UL << 14, Dr6Reserved = 0xFFFF0FF0;

    /// <summary>DR7.GD: MOV to or from any debug register raises #DB (BD).</summary>
    public const ulong Dr7Gd = 1UL << 13;

    private const ulong Cr4De = 1UL << 3;

    private DebugBreakpoints _bp;
    private ulong _bpDr7 = 0x400, _bpDr0, _bpDr1, _bpDr2, _bpDr3, _bpCr4De;

    // true while a breakpoint is enabled in DR7, a trap is pending, debug exceptions are inhibited
    // or the instruction running started with TF set (it may clear TF and must still trap)
    private bool _dbgArmed;
    private ulong _dbgPending;         // DR6 bits of traps to deliver at the next boundary
    private bool _dbgStepThis;         // the instruction running started with TF = 1
    private bool _dbgSsShadow;         // MOV SS / POP SS: the next boundary delivers nothing
    private PendingException? _debugStop;

    /// <summary>The decoded hardware breakpoints of DR0-DR3/DR7 (for a host debugger's display).</summary>
    public DebugBreakpoints Breakpoints
    {
        get
        {
            RefreshDebugState();
            return _bp;
        }
    }

    /// <summary>Writes DR0-DR7 as MOV DR does (DR4/DR5 alias DR6/DR7; reserved bits forced),
    /// for the machine and host debuggers; the breakpoints take effect at the next instruction.</summary>
    public void SetDebugRegister(int n, ulong value)
    {
        if (n is 4 or 5) n += 2;
        Dr[n] = n == 6 ? value | Dr6Reserved : n == 7 ? value | 0x400 : value;
        RefreshDebugState();
    }

    /// <summary>Recomputes the decoded breakpoints when DR0-DR3, DR7 or CR4.DE changed (also
    /// after direct writes to <see cref="Dr"/>; <see cref="Run"/> calls it). Enabling, moving or
    /// disabling a data watchpoint flushes the TLBs so the watched pages leave them.</summary>
    private void RefreshDebugState()
    {
        ulong de = Cr4 & Cr4De;
        if (Dr[7] != _bpDr7 || Dr[0] != _bpDr0 || Dr[1] != _bpDr1 || Dr[2] != _bpDr2 || Dr[3] != _bpDr3 || de != _bpCr4De)
        {
            var old = _bp;
            _bpDr7 = Dr[7];
            _bpDr0 = Dr[0];
            _bpDr1 = Dr[1];
            _bpDr2 = Dr[2];
            _bpDr3 = Dr[3];
            _bpCr4De = de;
            _bp = DebugBreakpoints.Decode(Dr, de != 0);
            if (old.DataMask != 0 || _bp.DataMask != 0)
            {
                FlushTlb();
            }
        }
        _dbgArmed = _bp.EnabledMask != 0 || _dbgPending != 0 || _dbgSsShadow || _dbgStepThis;
    }

    /// <summary>Whether the linear page may enter the read/write TLBs (not while a data watchpoint covers it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MayCacheData(ulong page) => (_bp.DataMask | _hostWatch.DataMask) == 0 || (!_bp.WatchesPage(page) && !_hostWatch.WatchesPage(page));

    /// <summary>A data access in the slow path: records the guest's watchpoints it hits (a trap after the
    /// instruction) and the host debugger's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckDataBreakpoints(ulong la, int size, bool write)
    {
        if (_bp.DataMask != 0)
        {
            uint hits = _bp.MatchData(la, size, write);
            if (hits != 0)
            {
                _dbgPending |= hits;
                _dbgArmed = true;
            }
        }
        if (_hostWatch.DataMask != 0)
        {
            CheckHostWatchpoints(la, size, write); // the host debugger's own (Cpu.HostDebug.cs)
        }
    }

    /// <summary>IN/OUT/INS/OUTS: I/O breakpoints (R/W = 10 with CR4.DE) on the ports accessed.</summary>
    private void CheckIoBreakpoints(ushort port, int size)
    {
        if (_bp.IoMask != 0)
        {
            uint hits = _bp.MatchIo(port, size);
            if (hits != 0)
            {
                _dbgPending |= hits;
                _dbgArmed = true;
            }
        }
    }

    /// <summary>
    /// At an instruction boundary while armed or TF is set: delivers the traps of the previous
    /// instruction, then checks instruction breakpoints on the next one (a fault, unless RF is
    /// set), then notes whether it runs with TF. Returns false when the run must stop with
    /// <see cref="_debugStop"/> pending.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool DebugBoundary(ulong rip, ulong pos)
    {
        bool inhibited = _dbgSsShadow;
        if (TakePendingTrap(pos))
        {
            return false;
        }
        if (!inhibited && _bp.ExecMask != 0 && (Rflags & Flag.RF) == 0)
        {
            uint hits = _bp.MatchExec(_segBase[CS] + rip);
            if (hits != 0)
            {
                // a fault: the instruction does not run; the handler returns with RF set to pass it
                Dr[6] = (Dr[6] & ~0xFUL) | hits | Dr6Reserved;
                _debugStop = new PendingException(new GuestFault(GuestFault.Debug, false, 0, 0), false, rip);
                return false;
            }
        }
        _dbgStepThis = (Rflags & Flag.TF) != 0;
        _dbgArmed = _bp.EnabledMask != 0 || _dbgPending != 0 || _dbgSsShadow || _dbgStepThis;
        return true;
    }

    /// <summary>The traps of the instruction that just completed (ring position <paramref name="pos"/> - 1):
    /// true with <see cref="_debugStop"/> set when a #DB trap is to be delivered now.</summary>
    private bool TakePendingTrap(ulong pos)
    {
        if (_dbgStepThis)
        {
            _dbgPending |= Dr6Bs;
            _dbgStepThis = false;
        }
        bool inhibited = _dbgSsShadow;
        _dbgSsShadow = false;
        if (_dbgPending == 0 || inhibited)
        {
            return false;
        }
        // a trap: the previous instruction completed, RIP is the next one
        Dr[6] = (Dr[6] & ~0xFUL) | _dbgPending | Dr6Reserved;
        _dbgPending = 0;
        ulong prev = _recentRips[(int)((pos - 1) & (RecentCapacity - 1))];
        _debugStop = new PendingException(new GuestFault(GuestFault.Debug, false, 0, 0), false, prev, IsTrap: true);
        _dbgArmed = _bp.EnabledMask != 0;
        return true;
    }

    /// <summary>A fault or software interrupt ends the instruction: its traps are discarded.</summary>
    private void DiscardDebugTraps()
    {
        _dbgStepThis = false;
        _dbgPending = 0;
        _dbgArmed = _bp.EnabledMask != 0 || _dbgSsShadow;
    }

    /// <summary>MOV DR with DR7.GD set: #DB (a fault) with DR6.BD, and GD cleared so the handler can use the registers.</summary>
    private void CheckGeneralDetect()
    {
        if ((Dr[7] & Dr7Gd) != 0)
        {
            Dr[6] = (Dr[6] & ~0xFUL) | Dr6Bd | Dr6Reserved;
            Dr[7] &= ~Dr7Gd;
            RefreshDebugState();
            Raise(new GuestFault(GuestFault.Debug, false, 0, 0));
        }
    }

    /// <summary>MOV SS / POP SS: debug exceptions wait until after the next instruction (SDM vol. 3 6.8.3).</summary>
    private void InhibitDebugExceptions()
    {
        _dbgSsShadow = true;
        _dbgArmed = true;
    }
}
