using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// One x86-64 logical processor: architectural state plus an interpreter over a decode cache.
/// The core does no I/O of its own: memory goes through <see cref="IAddressTranslator"/> into
/// <see cref="PhysicalMemory"/>, everything else through the hook interfaces. Exceptions are not
/// delivered here: <see cref="Run"/> stops with <see cref="StopReason.Exception"/> and the machine
/// delivers <see cref="PendingException"/> through the IDT.
/// </summary>
public sealed unsafe partial class Cpu
{
    public const int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public const int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    public const ulong NoBreak = ulong.MaxValue;

    /// <summary>General purpose registers RAX..R15 (stored inline in the object: no indirection, constant bounds).</summary>
    public GprFile Gpr;

    public ulong Rip;

    /// <summary>Reads a general purpose register (RAX = 0 .. R15 = 15). Code outside this assembly
    /// should use these rather than the <see cref="Gpr"/> indexer, whose inline-array helper
    /// ReadyToRun cannot precompile across assemblies (the JIT would compile it at start-up).</summary>
    public ulong ReadGpr(int index) => Gpr[index];

    /// <summary>Writes a general purpose register (all 64 bits).</summary>
    public void WriteGpr(int index, ulong value) => Gpr[index] = value;
    public ulong Rflags = Flag.Reserved1;

    /// <summary>XMM0..XMM15.</summary>
    public readonly Vector128<ulong>[] Xmm = new Vector128<ulong>[16];
    public uint Mxcsr = 0x1F80;
    public ushort FpuControl = 0x37F;
    public ushort FpuStatus;
    public ushort FpuTagAbridged;

    /// <summary>ES, CS, SS, DS, FS, GS.</summary>
    public readonly SegmentRegister[] Segments = new SegmentRegister[6];
    public SegmentRegister Tr;
    public SegmentRegister Ldtr;
    public DescriptorTableRegister Gdtr;
    public DescriptorTableRegister Idtr;

    // Power-on values (SDM vol. 3, table 10-1), shared by the field initialisers and Reset().
    private const ulong PowerOnCr0 = 0x60000010, PowerOnPat = 0x0007040600070406, PowerOnApicBase = 0xFEE00900;
    private static readonly ulong[] PowerOnDr = [0, 0, 0, 0, 0xFFFF0FF0, 0x400, 0xFFFF0FF0, 0x400];

    public ulong Cr0 = PowerOnCr0;
    public ulong Cr2;
    public ulong Cr3;
    public ulong Cr4;
    public ulong Cr8;
    public ulong Efer;
    public ulong Xcr0 = 1;
    public readonly ulong[] Dr = (ulong[])PowerOnDr.Clone();
    public ulong KernelGsBase;
    public ulong Star, Lstar, Cstar, Sfmask;
    public ulong Pat = PowerOnPat;
    public ulong TscOffset;
    public ulong ApicBase = PowerOnApicBase;

    /// <summary>Current privilege level.</summary>
    public int Cpl { get; private set; }

    /// <summary>Effective code size of the current CS: 16, 32 or 64.</summary>
    public int Bitness { get; private set; } = 32;

    /// <summary>Instructions completed since construction (faulting ones excluded).</summary>
    public long InstructionsRetired { get; private set; }

    /// <summary>Run stops with <see cref="StopReason.Breakpoint"/> when RIP equals this before an
    /// instruction; <see cref="NoBreak"/> (a RIP a guest can reach: all ones is canonical) means none.</summary>
    public ulong BreakAt = NoBreak;

    /// <summary>
    /// A <see cref="System.Diagnostics.Stopwatch"/> timestamp after which <see cref="Run"/> returns
    /// <see cref="StopReason.Deadline"/> at the next block boundary it checks (every
    /// <see cref="DeadlineCheckBlocks"/> blocks, and inside long REP string instructions), so no
    /// guest can hold the host past a wall-clock limit; <see cref="long.MaxValue"/> = none (the
    /// default, which keeps runs deterministic).
    /// </summary>
    public long Deadline = long.MaxValue;

    /// <summary>How many block dispatches pass between two deadline checks.</summary>
    public const int DeadlineCheckBlocks = 64;

    /// <summary>Set for one instruction after STI / MOV SS / POP SS (the machine must not inject interrupts then).</summary>
    public bool InterruptShadow { get; private set; }

    public PendingException? PendingException { get; private set; }

    /// <summary>The RIP of the instruction being executed (or fetched): what a hook that runs in
    /// the middle of an instruction (MSR, CR write, hypercall, memory check) reports as the RIP.</summary>
    public ulong CurrentInstructionRip => _recentRips[(int)(_curPos & (RecentCapacity - 1))];

    /// <summary>Unimplemented/undecodable instructions met, most recent last (bounded).</summary>
    public IReadOnlyList<Diagnostic> Diagnostics => _diagnostics;

    public PhysicalMemory Memory { get; }
    public IAddressTranslator Translator { get; set; }
    public IPortIo? PortIo { get; set; }
    public IMsrHook? MsrHook { get; set; }
    public ICpuidProvider Cpuid { get; set; }
    public IHypercallHandler? Hypercalls { get; set; }
    public IControlRegisterHook? ControlRegisterHook { get; set; }
    public IDescriptorTableHook? DescriptorTableHook { get; set; }

    private readonly List<Diagnostic> _diagnostics = [];
    private readonly byte[] _codePages;
    private readonly GuestFaultException _fault = new();
    private readonly ulong[] _segBase = new ulong[6];
    private ulong _ipMask = 0xFFFF_FFFF;

    /// <summary>How many instruction addresses <see cref="RecentInstructionRips"/> keeps (a power of two).</summary>
    public const int RecentCapacity = 32;
    private RecentRing _recentRips;
    private ulong _recentCount; // instructions started since construction (the ring position after the latest)
    private StopReason _stop;
    private bool _stopRequested;
    private bool _shadowNext;

    // RF loaded by IRET: cleared once the instruction after the IRET (ring position
    // _rfClearAt - 1) has completed; the block loop runs that instruction alone (DESIGN.md).
    private bool _rfArmed;
    private ulong _rfClearAt;
    private long _runStartRetired;

    /// <summary>Instructions retired including the current run (for RDTSC).</summary>
    internal long RetiredNow => _runStartRetired + (long)(_curPos - _runStartPos) + 1 + _extraRetired;

    // REP string iterations beyond the first of each instruction in this run: they count as
    // instructions retired and against the budget (see StringOp).
    private long _extraRetired;
    private int _deadlineCountdown = DeadlineCheckBlocks;

    public Cpu(PhysicalMemory memory, IAddressTranslator? translator = null)
    {
        Memory = memory;
        Translator = translator ?? new FlatTranslator(memory.Size);
        Cpuid = new DefaultCpuid();
        _codePages = new byte[(memory.Size + 4095) >> 12];
        FlushTlb();
        for (int i = 0; i < 6; i++)
        {
            Segments[i] = new SegmentRegister { Attributes = 0x93, Limit = 0xFFFF_FFFF };
        }
        Segments[CS].Attributes = 0x409B; // 32-bit code, DPL 0
        UpdateMode();
    }

    /// <summary>Puts the processor in 64-bit mode at CPL 0 with flat segments, PAE paging flags and SSE enabled (test/bench convenience).</summary>
    public void EnterFlatLongMode(ushort codeSelector = 0x08, ushort dataSelector = 0x10)
    {
        Cr0 = 0x80000033; // PG | NE | ET | MP | PE
        Cr4 = 0x620;      // PAE | OSFXSR | OSXMMEXCPT
        Efer = 0x500;     // LME | LMA
        for (int i = 0; i < 6; i++)
        {
            Segments[i] = new SegmentRegister { Selector = dataSelector, Attributes = 0xC093, Limit = 0xFFFF_FFFF };
        }
        Segments[CS] = new SegmentRegister { Selector = codeSelector, Attributes = 0xA09B, Limit = 0xFFFF_FFFF };
        UpdateMode();
        FlushTlb();
    }

    /// <summary>Puts the processor in 32-bit flat protected mode at CPL 0 (no paging), as a multiboot loader would.</summary>
    public void EnterFlatProtectedMode(ushort codeSelector = 0x08, ushort dataSelector = 0x10)
    {
        Cr0 = 0x11;
        Cr4 = 0;
        Efer = 0;
        for (int i = 0; i < 6; i++)
        {
            Segments[i] = new SegmentRegister { Selector = dataSelector, Attributes = 0xC093, Limit = 0xFFFF_FFFF };
        }
        Segments[CS] = new SegmentRegister { Selector = codeSelector, Attributes = 0xC09B, Limit = 0xFFFF_FFFF };
        UpdateMode();
        FlushTlb();
    }

    /// <summary>
    /// A processor reset (INIT/RESET): every register to its power-on value, caches and TLB
    /// dropped, nothing pending. Memory, the hooks and the retired-instruction count survive.
    /// </summary>
    public void Reset()
    {
        Gpr = default;
        Rip = 0xFFF0;
        Rflags = Flag.Reserved1;
        Array.Clear(Xmm);
        Mxcsr = 0x1F80;
        FpuControl = 0x37F;
        FpuStatus = 0;
        FpuTagAbridged = 0;
        ResetFpuExtras();
        for (int i = 0; i < 6; i++)
        {
            Segments[i] = new SegmentRegister { Attributes = 0x93, Limit = 0xFFFF };
        }
        Segments[CS] = new SegmentRegister { Selector = 0xF000, Base = 0xFFFF_0000, Attributes = 0x9B, Limit = 0xFFFF };
        Tr = default;
        Ldtr = default;
        Gdtr = default;
        Idtr = new DescriptorTableRegister { Base = 0, Limit = 0xFFFF };
        Cr0 = PowerOnCr0;
        Cr2 = Cr3 = Cr4 = Cr8 = 0;
        Efer = 0;
        Xcr0 = 1;
        PowerOnDr.CopyTo(Dr, 0);
        _dbgPending = 0;
        _dbgStepThis = _dbgSsShadow = false;
        RefreshDebugState();
        KernelGsBase = Star = Lstar = Cstar = Sfmask = 0;
        Pat = PowerOnPat;
        ApicBase = PowerOnApicBase;
        TscAux = 0;
        SysenterCs = SysenterEsp = SysenterEip = 0;
        MiscEnable = MiscEnablePowerOn;
        PendingException = null;
        InterruptShadow = false;
        _shadowNext = false;
        _rfArmed = false;
        UpdateMode();
        FlushTlb();
        FlushDecodeCache();
    }

    public bool LongModeActive => (Efer & 0x400) != 0;

    /// <summary>Reads or writes a segment register's hidden state directly (machine/loader use).</summary>
    public void SetSegment(int index, SegmentRegister value)
    {
        Segments[index] = value;
        UpdateMode();
    }

    /// <summary>Recomputes derived state (code size, CPL, effective segment bases) after direct state edits.</summary>
    public void UpdateMode()
    {
        var cs = Segments[CS];
        int bits = LongModeActive && cs.Long ? 64 : cs.DefaultBig ? 32 : 16;
        int cpl = (Cr0 & 1) == 0 ? 0 : cs.Dpl;
        if ((Cr0 & 1) != 0 && (cs.Selector & 3) != cs.Dpl && (cs.Attributes & 0x10) != 0)
        {
            cpl = cs.Selector & 3;
        }
        if (V86Mode)
        {
            cpl = 3;   // virtual-8086 mode runs at CPL 3 whatever the selectors (Cpu.V86.cs)
        }
        if (cpl != Cpl)
        {
            Cpl = cpl;
            FlushTlb();
        }
        ulong csBase = _segBase[CS];
        int oldBits = Bitness;
        Bitness = bits;
        _ipMask = bits == 64 ? ulong.MaxValue : 0xFFFF_FFFF;
        for (int i = 0; i < 6; i++)
        {
            _segBase[i] = bits == 64 && i < FS ? 0 : Segments[i].Base;
        }
        // jump-cache entries map a RIP to a block decoded for one code size and CS base (a CPL
        // change has flushed the TLB above, which also invalidates them)
        if (bits != oldBits || _segBase[CS] != csBase)
        {
            NewCodeGeneration();
        }
    }

    /// <summary>Stop the current <see cref="Run"/> after the instruction that is executing (hooks may call this).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _exit = true;
    }

    /// <summary>True when a stop was requested (<see cref="RequestStop"/>) and the next
    /// <see cref="Run"/> has not started yet, or a hook asked during the current one.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>Clears the pending exception (after the machine delivered it).</summary>
    public void ClearPendingException() => PendingException = null;

    /// <summary>
    /// Executes up to <paramref name="maxInstructions"/> instructions. Never throws for guest
    /// behaviour: faults come back as <see cref="StopReason.Exception"/>.
    /// </summary>
    public StopReason Run(long maxInstructions)
    {
        PendingException = null;
        _stopRequested = false;
        _exit = false;
        _stop = StopReason.InstructionLimit;
        _runStartRetired = InstructionsRetired;
        _runStartPos = _recentCount;
        _posLimit = maxInstructions > 0 ? _recentCount + (ulong)maxInstructions : _recentCount;
        _extraRetired = 0;
        _deadlineCountdown = DeadlineCheckBlocks;
        _inRun = true;
        _debugStop = null;
        ArmHostBreakResume();
        SyncTranslationContext();
        RefreshDebugState();
        if ((Rflags & Flag.RF) != 0 && !_rfArmed)
        {
            // RF set from outside (the host, a debugger): like after IRET, it suppresses instruction
            // breakpoints for the next instruction and is cleared once that one completes
            _rfArmed = true;
            _rfClearAt = _recentCount + 1;
        }
        try
        {
            var stop = ExecuteBlocks();
            if (stop == StopReason.Exception)
            {
                if (_debugStop is { } debug)
                {
                    // a #DB from the debug checks at a boundary (Cpu.Debug.cs): RIP and the ring are final
                    _debugStop = null;
                    InstructionsRetired += (long)(_recentCount - _runStartPos) + _extraRetired;
                    PendingException = debug;
                    return stop;
                }
                return TakeFault(_softFault, software: false); // a micro-op's fault, returned without a host exception
            }
            InstructionsRetired += (long)(_recentCount - _runStartPos) + _extraRetired;
            return stop;
        }
        catch (GuestFaultException e)
        {
            return TakeFault(e.Fault, e.IsSoftwareInterrupt || e.IsTrap, e.IsTrap);
        }
        finally
        {
            _inNewTask = false;
            _inRun = false;
            _stopRequested = false;
            _exit = false;
        }
    }

    /// <summary>
    /// Ends a run on a fault raised by the latest instruction started (ring position
    /// <see cref="_curPos"/>): it is not retired, except a software interrupt, which completes
    /// (RIP already points after it); for a fault RIP goes back to the instruction.
    /// </summary>
    private StopReason TakeFault(GuestFault fault, bool software, bool trap = false)
    {
        DiscardDebugTraps();
        ulong rip = CurrentInstructionRip;
        InstructionsRetired += (long)(_curPos - _runStartPos) + (software ? 1 : 0) + _extraRetired;
        _recentCount = _curPos + 1;
        if (!software)
        {
            Rip = rip;
        }
        if (fault.Vector == GuestFault.PageFault)
        {
            Cr2 = fault.Cr2;
        }
        PendingException = new PendingException(fault, software && !trap, rip, trap);
        return StopReason.Exception;
    }

    /// <summary>The last <see cref="RecentCapacity"/> instruction addresses started (fetched),
    /// oldest first; the last one is the instruction that faulted or stopped, if any.</summary>
    public IReadOnlyList<ulong> RecentInstructionRips()
    {
        // during a run (a hook asking) the latest instruction started is the one at _curPos
        ulong count = _inRun ? _curPos + 1 : _recentCount;
        int n = (int)Math.Min(count, (ulong)RecentCapacity);
        var list = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            list[i] = _recentRips[(int)((count - (ulong)n + (ulong)i) & (RecentCapacity - 1))];
        }
        return list;
    }

    /// <summary>Execute exactly one instruction.</summary>
    public StopReason Step() => Run(1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Raise(GuestFault fault)
    {
        _fault.Fault = fault;
        _fault.IsSoftwareInterrupt = false;
        _fault.IsTrap = _inNewTask;   // a fault while loading a new task's state belongs to the new task (Cpu.TaskSwitch.cs)
        throw _fault;
    }

    /// <summary>A trap-class exception raised by the instruction itself (INT1/ICEBP): it completes,
    /// RIP points after it, and it is delivered like a hardware exception (no gate DPL check).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseTrap(byte vector)
    {
        _fault.Fault = new GuestFault(vector, false, 0, 0);
        _fault.IsSoftwareInterrupt = false;
        _fault.IsTrap = true;
        throw _fault;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseSoftware(byte vector)
    {
        _fault.Fault = new GuestFault(vector, false, 0, 0);
        _fault.IsSoftwareInterrupt = true;
        _fault.IsTrap = false;
        throw _fault;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseUnimplemented(DecodedOp d, string message)
    {
        if (_diagnostics.Count >= 1000)
        {
            _diagnostics.RemoveAt(0);
        }
        _diagnostics.Add(new Diagnostic(CurrentInstructionRip, d.Insn.IsInvalid ? "(bad)" : d.Mnemonic, d.Bytes, message));
        _diagnosticsRaised++;
        Raise(GuestFault.UD());
    }

    /// <summary>Decodes the instruction at <paramref name="la"/> that may continue on the next page
    /// (translated for execution through the execute TLB: may fault); <paramref name="tailPage"/> is
    /// the physical page its tail is on, or <see cref="ulong.MaxValue"/> if it fits.</summary>
    private DecodedOp DecodeAt(ulong rip, ulong la, ulong phys, out ulong tailPage)
    {
        var buf = new byte[15];
        int inPage = (int)Math.Min(15UL, 4096 - (la & 0xFFF));
        new ReadOnlySpan<byte>(Memory.Base + phys, inPage).CopyTo(buf);
        int n = inPage;
        var instr = DecodeBytes(buf, n, rip, out var error);
        ulong phys2 = ulong.MaxValue;
        if (error == DecoderError.NoMoreBytes && n < 15)
        {
            // the instruction continues on the next page: translate it (may #PF) and decode again
            phys2 = ExecPhysPage(la + (ulong)inPage);
            new ReadOnlySpan<byte>(Memory.Base + phys2, 15 - inPage).CopyTo(buf.AsSpan(inPage));
            n = 15;
            instr = DecodeBytes(buf, n, rip, out error);
        }
        var bytes = buf.AsSpan(0, instr.IsInvalid ? Math.Min(n, 15) : instr.Length).ToArray();
        var d = OpBuilder.Build(in instr, phys, Bitness, bytes);
        if (instr.IsInvalid)
        {
            d.Length = 1;
        }
        MarkCodePage(phys >> 12);
        tailPage = ulong.MaxValue;
        if (phys2 != ulong.MaxValue && d.Length > inPage)
        {
            MarkCodePage(phys2 >> 12);
            tailPage = phys2;
        }
        return d;
    }

    private Instruction DecodeBytes(byte[] buf, int n, ulong rip, out DecoderError error)
    {
        var decoder = Iced.Intel.Decoder.Create(Bitness, new ByteArrayCodeReader(buf, 0, n), rip, DecoderOptions.None);
        decoder.Decode(out var instr);
        error = decoder.LastError;
        return instr;
    }

    private void MarkCodePage(ulong ppage)
    {
        if (_codePages[ppage] == 0)
        {
            _codePages[ppage] = 1;
            FlushWriteTlb();
        }
    }

    /// <summary>Drops cached decodes on a physical page (the core does this itself for guest writes; the machine calls it for DMA-like writes).</summary>
    public void InvalidateCodePage(ulong physicalPage)
    {
        if (physicalPage >= (ulong)_codePages.Length)
        {
            return;
        }
        _codePages[physicalPage] = 0;
        // blocks start in the page, or (a page-crossing instruction alone) up to 15 bytes before it
        ulong start = (physicalPage << 12) >= 15 ? (physicalPage << 12) - 15 : 0;
        ulong end = (physicalPage << 12) + 4096;
        var blocks = _blocks;
        for (ulong a = start; a < end; a++)
        {
            ref var e = ref blocks[a & BlockCacheMask];
            if (e != null && e.Phys == a)
            {
                e.Valid = false;
                e = null;
            }
        }
        _exit = true; // the running block may be one of them: leave it after this instruction
    }

    /// <summary>
    /// Tells the core that something other than its own stores (the page walker setting
    /// accessed/dirty bits, a device, the host on the guest's behalf) wrote guest-physical memory
    /// at <paramref name="physical"/>: decoded code from that page is dropped, so the CPU never
    /// runs bytes that are no longer in memory. Cheap when the page holds no decoded code.
    /// </summary>
    public void NotifyPhysicalWrite(ulong physical)
    {
        ulong page = physical >> 12;
        if (page < (ulong)_codePages.Length && _codePages[page] != 0)
        {
            InvalidateCodePage(page);
        }
    }

    /// <summary>Drops the whole decode cache.</summary>
    public void FlushDecodeCache()
    {
        foreach (var b in _blocks)
        {
            if (b != null) b.Valid = false;
        }
        Array.Clear(_blocks);
        Array.Clear(_codePages);
        NewCodeGeneration();
        _flushEpoch++;   // every other context's links go too
        _exit = true;
        FlushWriteTlb();
    }
}
