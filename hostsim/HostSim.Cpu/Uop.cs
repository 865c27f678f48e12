using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Micro-op kinds of the block interpreter. The specialised kinds exist only in 64-bit code and only
/// for the operand shapes they name (R = 32/64-bit GPR, I = immediate, M = flat memory operand);
/// everything else is <see cref="Generic"/> (runs the full <see cref="DecodedOp"/> handler and stays
/// in the block) or <see cref="GenericEnd"/> (runs it and ends the block: control flow, mode,
/// system and faulting-by-design instructions).
/// </summary>
internal enum UopKind : byte
{
    Generic = 0,
    GenericEnd,
    Nop,
    MovRR, MovRI, MovRM, MovMR, MovMI, Lea,
    MovzxRR, MovzxRM, MovsxRR, MovsxRM,
    AddRR, AddRI, AddRM, AddM,
    OrRR, OrRI, OrRM, OrM,
    AndRR, AndRI, AndRM, AndM,
    SubRR, SubRI, SubRM, SubM,
    XorRR, XorRI, XorRM, XorM,
    CmpRR, CmpRI, CmpRM, CmpM,
    TestRR, TestRI, TestM,
    IncR, DecR, IncM, DecM,
    ShlR, ShrR, SarR, RolR, RorR,
    ImulRR, ImulRM, ImulRRI, ImulRMI,
    CmovRR, CmovRM, SetccR,
    PushR, PushI, PopR,
    // direct branches: a block goes on along the fall-through path of Jcc (a taken Jcc leaves the
    // block) and, when the target is on the same page, at the target of JMP/CALL (a trace)
    Jcc, Jmp, Call,
    // block terminators (always the last micro-op of a block)
    JmpR, JmpM, CallR, CallM, Ret,
}

/// <summary>
/// One pre-digested instruction of a <see cref="Block"/> (32 bytes). <see cref="D"/> keeps the full
/// decode for the generic handlers and diagnostics.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Uop
{
    public DecodedOp D;

    /// <summary>Immediate (pre-masked to the operand size), branch displacement, or shift count.</summary>
    public ulong Imm;

    /// <summary>Memory displacement (RIP-relative: relative to the next instruction).</summary>
    public int Disp;

    public UopKind K;

    /// <summary>Instruction length in bytes.</summary>
    public byte Len;

    /// <summary>Operand size in bytes.</summary>
    public byte Size;

    /// <summary>Source size (MOVZX/MOVSX), or the condition index (Jcc/CMOVcc/SETcc).</summary>
    public byte Size1;

    public byte R0;
    public byte R1;
    public byte Base;
    public byte Index;

    /// <summary>Effective-address recipe: <see cref="EaScaleMask"/> scale bits plus the Ea* flags.</summary>
    public byte Ea;

    public byte Seg;

    /// <summary>Shift count comes from CL.</summary>
    public bool CountCl;

    /// <summary>Memory-destination ALU/TEST forms: the source is register <see cref="R1"/> (else <see cref="Imm"/>).</summary>
    public bool SrcReg;

    public const byte EaScaleMask = 3, EaBase = 4, EaIndex = 8, EaRip = 16, EaSeg = 32;
}

/// <summary>
/// A trace of instructions starting at one physical address, all inside one 4 KiB page (or one
/// page-crossing instruction alone), decoded once for one code size: straight-line code, through
/// not-taken conditional branches and into direct jumps and calls whose target is on the same
/// page. Ends at an indirect branch, a return, a system instruction, a direct branch leaving the
/// page, the page end, or after <see cref="Cpu.MaxBlockOps"/>.
/// Invalid once its page is written (self-modifying code), the decode cache is flushed, or it is
/// evicted from the block cache.
/// </summary>
internal sealed class Block
{
    public ulong Phys;
    public int Bitness;
    public int Count;

    public bool Valid = true;
    public Uop[] Ops = NoOps;

    private static readonly Uop[] NoOps = new Uop[0];

    /// <summary>For a block of one page-crossing instruction: the physical page of its tail (else <see cref="ulong.MaxValue"/>).</summary>
    public ulong TailPage = ulong.MaxValue;
}

/// <summary>Jump-cache entry: linear RIP -> block, valid while <see cref="Gen"/> equals the CPU's code generation.</summary>
internal struct JumpCacheEntry
{
    public ulong Rip;
    public Block? Block;
    public ulong Gen;
}

/// <summary>Ring of the last 32 started instruction addresses.</summary>
[InlineArray(Cpu.RecentCapacity)]
internal struct RecentRing
{
    private ulong _element0;
}
