using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The block cache: traces of pre-digested micro-ops (see <see cref="Block"/>) keyed by physical
/// address, found from a RIP through a jump cache (entries are valid while the code generation,
/// which every TLB flush and mode change bumps, is unchanged and the block is valid) or, on a miss,
/// through the execute TLB and the block cache.
/// </summary>
public sealed unsafe partial class Cpu
{
    /// <summary>Most instructions one block holds.</summary>
    internal const int MaxBlockOps = 64;

    private const int BlockCacheBits = 16;
    private const int BlockCacheMask = (1 << BlockCacheBits) - 1;
    private const int JumpCacheSize = 4096;
    private const int JumpCacheMask = JumpCacheSize - 1;

    private readonly Block?[] _blocks = new Block?[1 << BlockCacheBits];
    private readonly JumpCacheEntry[] _jumpCache = new JumpCacheEntry[JumpCacheSize];
    private readonly Uop[] _buildScratch = new Uop[MaxBlockOps];

    /// <summary>Bumped by every TLB flush, mode change and decode-cache flush: jump-cache entries of an older generation are stale.</summary>
    private ulong _codeGen = 1UL << CodeGenContextBits;   // context 0's first generation (Cpu.TranslationContexts.cs)

    // Where execution is, for faults, hooks and RecentInstructionRips. Every instruction started
    // gets the next ring position; the loop publishes the position of the one it runs (the ring
    // entry holds its RIP), so a hook or a fault finds it without knowing about blocks.
    private ulong _curPos;      // ring position of the latest instruction started (fetching or executing)
    private ulong _runStartPos; // ring position at the start of Run
    private ulong _posLimit;    // ring position at which the instruction budget is used up
    private ulong _posEnd;      // ring position after the last instruction this block entry runs
    private bool _inRun;

    /// <summary>Set when the running block must be left after the current instruction (code written, stop requested).</summary>
    private bool _exit;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Block LookupBlock(ulong rip, ulong pos, ref JumpCacheEntry entry)
    {
        // the instruction at rip has started: a fault while fetching reports it
        _recentRips[(int)(pos & (RecentCapacity - 1))] = rip;
        _curPos = pos;
        ulong la = rip + _segBase[CS];
        ulong phys = ExecPhysPage(la) | (la & 0xFFF);
        ref Block? cached = ref _blocks[phys & BlockCacheMask];
        Block? b = cached;
        if (b != null && b.TailPage != ulong.MaxValue && b.Phys == phys)
        {
            // a page-crossing instruction: its tail page is fetched (and permission-checked) again
            // whenever the jump cache cannot vouch for the translation, i.e. after any TLB flush
            if (ExecPhysPage((la | 0xFFF) + 1) != b.TailPage)
            {
                b.Valid = false;
            }
        }
        if (b == null || b.Phys != phys || b.Bitness != Bitness || !b.Valid)
        {
            var built = BuildBlock(rip, la, phys);
            if (b != null)
            {
                b.Valid = false; // evicted: links to it (jump cache) must not survive an SMC scan that cannot find it
            }
            cached = built;
            b = built;
        }
        entry.Rip = rip;
        entry.Block = b;
        entry.Gen = _codeGen;
        return b;
    }

    private Block BuildBlock(ulong rip, ulong la, ulong phys)
    {
        int bits = Bitness;
        ulong pageBase = phys & ~0xFFFUL;
        int offset = (int)(la & 0xFFF);
        ulong ripBase = rip - (ulong)offset; // RIP of offset 0 of this page
        var ops = _buildScratch;
        int count = 0;
        ulong tailPage = ulong.MaxValue;
        var reader = new PointerCodeReader(Memory.Base + pageBase, 4096) { Position = offset };
        var decoder = Iced.Intel.Decoder.Create(bits, reader, rip, DecoderOptions.None);
        while (count < MaxBlockOps)
        {
            if (count > 0 && ripBase + (ulong)offset == BreakAt && BreakAt != NoBreak)
            {
                break; // a breakpoint stops the run there anyway: do not decode what follows (a shorter block is still correct)
            }
            reader.Position = offset;
            decoder.IP = ripBase + (ulong)offset;
            decoder.Decode(out var instr);
            DecodedOp d;
            if (decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (count > 0)
                {
                    break; // the next instruction crosses the page: it starts a block of its own
                }
                d = DecodeAt(rip, la, phys, out tailPage); // may translate (and fault on) the next page
            }
            else
            {
                int n = instr.IsInvalid ? Math.Min(4096 - offset, 15) : instr.Length;
                var raw = new ReadOnlySpan<byte>(Memory.Base + pageBase + (ulong)offset, n).ToArray();
                d = OpBuilder.Build(in instr, pageBase + (ulong)offset, bits, raw);
                if (instr.IsInvalid)
                {
                    d.Length = 1;
                }
            }
            var u = MakeUop(d, bits);
            ops[count++] = u;
            int next = offset + d.Length;
            if (u.K == UopKind.GenericEnd || u.K >= UopKind.JmpR || next >= 4096)
            {
                break;
            }
            if (u.K is UopKind.Jmp or UopKind.Call)
            {
                // follow the branch if its target is on this page
                long target = next + (long)u.Imm;
                if (target < 0 || target >= 4096)
                {
                    break;
                }
                next = (int)target;
            }
            offset = next;
        }
        MarkCodePage(pageBase >> 12);
        var block = new Block { Phys = phys, Bitness = bits, Count = count, TailPage = tailPage, Ops = CopyOps(ops, count) };
        return block;
    }

    /// <summary>True for generic handlers that never change control flow, the mode, the TLB or the interrupt shadow.</summary>
    private static bool StaysInBlock(Handler h) => h switch
    {
        Handler.MovSreg => false,
        >= Handler.Nop and <= Handler.Std => true,
        Handler.Push or Handler.Pop or Handler.Pushf or Handler.Leave or Handler.Enter => true,
        >= Handler.Movs and <= Handler.Scas => true,
        >= Handler.MovScalar32 => true,
        _ => false,
    };

    private static bool FitsInt32(long v) => v == (int)v;

    /// <summary>Fills the effective-address recipe of a flat 64-bit memory operand; false if it needs the generic path.</summary>
    private static bool SetEa(ref Uop u, DecodedOp d, bool withSegment)
    {
        if (d.Addr32 || !FitsInt32(d.Disp))
        {
            return false;
        }
        byte ea = d.Scale;
        if (d.Base == DecodedOp.RipReg)
        {
            ea |= Uop.EaRip;
        }
        else if (d.Base != DecodedOp.NoReg)
        {
            if (d.Base >= 16) return false;
            ea |= Uop.EaBase;
            u.Base = d.Base;
        }
        if (d.Index != DecodedOp.NoReg)
        {
            if (d.Index >= 16) return false;
            ea |= Uop.EaIndex;
            u.Index = d.Index;
        }
        if (withSegment && d.Seg >= FS)
        {
            ea |= Uop.EaSeg;
            u.Seg = d.Seg;
        }
        u.Ea = ea;
        u.Disp = (int)d.Disp;
        return true;
    }

    private static Uop MakeUop(DecodedOp d, int bits)
    {
        var u = new Uop { D = d, Len = (byte)d.Length, Size = (byte)d.Size, Size1 = (byte)d.Size1, R0 = d.R0, R1 = d.R1, Imm = d.Imm };
        var k = bits == 64 ? Specialise(ref u, d) : (UopKind?)null;
        u.K = k ?? (StaysInBlock(d.H) ? UopKind.Generic : UopKind.GenericEnd);
        return u;
    }

    /// <summary>The specialised micro-op for a 64-bit instruction, or null for the generic path.</summary>
    private static UopKind? Specialise(ref Uop u, DecodedOp d)
    {
        int size = d.Size;
        bool wide = size is 4 or 8;
        bool r0 = d.K0 == OperandKind.Reg && d.R0 < 16;
        bool r1 = d.K1 == OperandKind.Reg && d.R1 < 16;
        bool m0 = d.K0 == OperandKind.Mem;
        bool m1 = d.K1 == OperandKind.Mem;
        bool i1 = d.K1 == OperandKind.Imm;
        bool anySize = size is 1 or 2 or 4 or 8;
        ulong mask = size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        switch (d.H)
        {
            case Handler.Nop:
                return UopKind.Nop;
            case Handler.Mov:
                if (r0 && wide)
                {
                    if (r1) return UopKind.MovRR;
                    if (i1) { u.Imm = d.Imm & mask; return UopKind.MovRI; }
                    if (m1 && SetEa(ref u, d, true)) return UopKind.MovRM;
                }
                else if (m0 && anySize && SetEa(ref u, d, true))
                {
                    if (r1) return UopKind.MovMR;
                    if (i1) { u.Imm = d.Imm & mask; return UopKind.MovMI; }
                }
                return null;
            case Handler.Lea:
                return r0 && wide && SetEa(ref u, d, false) ? UopKind.Lea : null;
            case Handler.Movzx:
            case Handler.Movsx:
                {
                    if (!(r0 && wide) || d.Size1 >= size || d.Size1 is not (1 or 2 or 4)) return null;
                    bool sx = d.H == Handler.Movsx;
                    if (r1) return sx ? UopKind.MovsxRR : UopKind.MovzxRR;
                    if (m1 && SetEa(ref u, d, true)) return sx ? UopKind.MovsxRM : UopKind.MovzxRM;
                    return null;
                }
            case Handler.Add: return Alu(ref u, d, UopKind.AddRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.Or: return Alu(ref u, d, UopKind.OrRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.And: return Alu(ref u, d, UopKind.AndRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.Sub: return Alu(ref u, d, UopKind.SubRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.Xor: return Alu(ref u, d, UopKind.XorRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.Cmp: return Alu(ref u, d, UopKind.CmpRR, r0, r1, m0, m1, i1, wide, anySize, mask);
            case Handler.Test:
                if (r0 && wide)
                {
                    if (r1) return UopKind.TestRR;
                    if (i1) { u.Imm = d.Imm & mask; return UopKind.TestRI; }
                    return null;
                }
                if (m0 && anySize && (r1 || i1) && SetEa(ref u, d, true))
                {
                    u.Imm = d.Imm & mask;
                    u.SrcReg = r1;
                    return UopKind.TestM;
                }
                return null;
            case Handler.Inc:
            case Handler.Dec:
                {
                    bool inc = d.H == Handler.Inc;
                    if (r0 && wide) return inc ? UopKind.IncR : UopKind.DecR;
                    if (m0 && anySize && SetEa(ref u, d, true)) return inc ? UopKind.IncM : UopKind.DecM;
                    return null;
                }
            case Handler.Shl:
            case Handler.Shr:
            case Handler.Sar:
            case Handler.Rol:
            case Handler.Ror:
                if (!(r0 && wide)) return null;
                u.CountCl = d.Aux == 1;
                u.Imm = d.Imm;
                return d.H switch
                {
                    Handler.Shl => UopKind.ShlR,
                    Handler.Shr => UopKind.ShrR,
                    Handler.Sar => UopKind.SarR,
                    Handler.Rol => UopKind.RolR,
                    _ => UopKind.RorR,
                };
            case Handler.Imul2:
                if (!(r0 && wide)) return null;
                if (d.K2 == OperandKind.Imm)
                {
                    if (r1) return UopKind.ImulRRI;
                    if (m1 && SetEa(ref u, d, true)) return UopKind.ImulRMI;
                    return null;
                }
                if (r1) return UopKind.ImulRR;
                if (m1 && SetEa(ref u, d, true)) return UopKind.ImulRM;
                return null;
            case Handler.Cmovcc:
                u.Size1 = d.Cond;
                if (!(r0 && wide)) return null;
                if (r1) return UopKind.CmovRR;
                if (m1 && SetEa(ref u, d, true)) return UopKind.CmovRM;
                return null;
            case Handler.Setcc:
                u.Size1 = d.Cond;
                return r0 ? UopKind.SetccR : null;
            case Handler.Push:
                if (size != 8) return null;
                if (r0) return UopKind.PushR;
                if (d.K0 == OperandKind.Imm) return UopKind.PushI;
                return null;
            case Handler.Pop:
                return size == 8 && r0 ? UopKind.PopR : null;
            case Handler.Jcc:
                u.Size1 = d.Cond;
                u.Imm = (ulong)d.Rel;
                return UopKind.Jcc;
            case Handler.Jmp:
                u.Imm = (ulong)d.Rel;
                return UopKind.Jmp;
            case Handler.JmpIndirect:
                if (size != 8) return null;
                if (r0) return UopKind.JmpR;
                if (m0 && SetEa(ref u, d, true)) return UopKind.JmpM;
                return null;
            case Handler.Call:
                if (size != 8) return null;
                u.Imm = (ulong)d.Rel;
                return UopKind.Call;
            case Handler.CallIndirect:
                if (size != 8 || d.Size1 != 8) return null;
                if (r0) return UopKind.CallR;
                if (m0 && SetEa(ref u, d, true)) return UopKind.CallM;
                return null;
            case Handler.Ret:
                return size == 8 ? UopKind.Ret : null;
            default:
                return null;
        }
    }

    private static UopKind? Alu(ref Uop u, DecodedOp d, UopKind rr, bool r0, bool r1, bool m0, bool m1, bool i1, bool wide, bool anySize, ulong mask)
    {
        // rr, rr+1 = RI, rr+2 = RM, rr+3 = M (memory destination, register or immediate source)
        if (r0 && wide)
        {
            if (r1) return rr;
            if (i1) { u.Imm = d.Imm & mask; return rr + 1; }
            if (m1 && SetEa(ref u, d, true)) return rr + 2;
            return null;
        }
        if (m0 && anySize && (r1 || i1) && SetEa(ref u, d, true))
        {
            u.Imm = d.Imm & mask;
            u.SrcReg = r1;
            return rr + 3;
        }
        return null;
    }

    /// <summary>How many instructions of the block run before RIP reaches <paramref name="breakAt"/>
    /// (at most <paramref name="n"/>), following the block's path (conditional branches not taken).</summary>
    private static int BreakLimit(Block b, ulong rip, ulong breakAt, int n)
    {
        ulong r = rip;
        for (int k = 0; k < n; k++)
        {
            if (r == breakAt)
            {
                return k;
            }
            ref var u = ref b.Ops[k];
            r += u.Len;
            if (u.K is UopKind.Jmp or UopKind.Call)
            {
                r += u.Imm;
            }
        }
        return n;
    }

    /// <summary>Iced code reader over guest memory (one page at most).</summary>
    private sealed class PointerCodeReader(byte* p, int length) : CodeReader
    {
        public int Position;

        public override int ReadByte() => Position < length ? p[Position++] : -1;
    }

    /// <summary>The first <paramref name="count"/> micro-ops as their own array (Array.Copy is not
    /// generic, so nothing here waits for the JIT at start-up).</summary>
    private static Uop[] CopyOps(Uop[] ops, int count)
    {
        var copy = new Uop[count];
        Array.Copy(ops, copy, count);
        return copy;
    }
}
