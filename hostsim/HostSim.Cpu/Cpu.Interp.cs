using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The block interpreter: find the block for RIP (jump cache, else execute TLB + block cache), then
/// run its micro-ops with RIP and the ring position in locals. Per instruction the loop only
/// publishes the ring entry (the instruction's RIP) and its position <see cref="_curPos"/>, which is
/// all a hook or a fault needs (<see cref="CurrentInstructionRip"/>, the retired count,
/// <see cref="RecentInstructionRips"/>); RIP is published when the loop leaves.
/// </summary>
public sealed unsafe partial class Cpu
{
    /// <summary>Bit i of entry cc: condition cc holds for the flags index i = CF | PF&lt;&lt;1 | ZF&lt;&lt;2 | SF&lt;&lt;3 | OF&lt;&lt;4
    /// (conditions in encoding order o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g; checked by a unit test).</summary>
    internal static ReadOnlySpan<uint> CondMasks =>
    [
        0xFFFF0000, 0x0000FFFF, 0xAAAAAAAA, 0x55555555, 0xF0F0F0F0, 0x0F0F0F0F, 0xFAFAFAFA, 0x05050505,
        0xFF00FF00, 0x00FF00FF, 0xCCCCCCCC, 0x33333333, 0x00FFFF00, 0xFF0000FF, 0xF0FFFFF0, 0x0F00000F,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool CondHolds(ulong f, int cc)
    {
        int idx = (int)((f & 1) | ((f >> 1) & 2) | ((f >> 4) & 0xC) | ((f >> 7) & 0x10));
        return ((CondMasks[cc & 15] >> idx) & 1) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool CondFast(int cc) => CondHolds(Rflags, cc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong FastEa(ref Uop u, ulong next)
    {
        ulong ea = (ulong)(long)u.Disp;
        int f = u.Ea;
        if ((f & Uop.EaBase) != 0)
        {
            ea += Reg(u.Base);
        }
        if ((f & Uop.EaIndex) != 0)
        {
            ea += Reg(u.Index) << (f & Uop.EaScaleMask);
        }
        if ((f & (Uop.EaRip | Uop.EaSeg)) != 0)
        {
            if ((f & Uop.EaRip) != 0) ea += next;
            if ((f & Uop.EaSeg) != 0) ea += _segBase[u.Seg];
        }
        return ea;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong WideMask(int size) => ulong.MaxValue >> (64 - size * 8);

    // ---- flag-computing ALU operations (eager flags, identical to the generic handlers) ----

    private interface IFastAlu
    {
        static abstract ulong Compute(ulong a, ulong b, int size, out ulong flags);

        static abstract bool Writes { get; }
    }

    private struct FAdd : IFastAlu
    {
        public static bool Writes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags)
        {
            ulong r = (a + b) & Mask(size);
            int sh = size * 8 - 1;
            flags = Szp(r, size) | (r < a ? Flag.CF : 0) | ((((a ^ r) & (b ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF);
            return r;
        }
    }

    private struct FSub : IFastAlu
    {
        public static bool Writes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags)
        {
            ulong r = (a - b) & Mask(size);
            int sh = size * 8 - 1;
            flags = Szp(r, size) | (a < b ? Flag.CF : 0) | ((((a ^ b) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF);
            return r;
        }
    }

    private struct FCmp : IFastAlu
    {
        public static bool Writes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags) => FSub.Compute(a, b, size, out flags);
    }

    private struct FAnd : IFastAlu
    {
        public static bool Writes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags)
        {
            ulong r = a & b;
            flags = Szp(r, size);
            return r;
        }
    }

    private struct FTest : IFastAlu
    {
        public static bool Writes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags) => FAnd.Compute(a, b, size, out flags);
    }

    private struct FOr : IFastAlu
    {
        public static bool Writes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags)
        {
            ulong r = a | b;
            flags = Szp(r, size);
            return r;
        }
    }

    private struct FXor : IFastAlu
    {
        public static bool Writes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Compute(ulong a, ulong b, int size, out ulong flags)
        {
            ulong r = a ^ b;
            flags = Szp(r, size);
            return r;
        }
    }

    /// <summary>op r32/64, (r | imm | m): <paramref name="b"/> is the (masked) source.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AluR<T>(ref ulong dst, ulong b, int size) where T : struct, IFastAlu
    {
        ulong r = T.Compute(dst & WideMask(size), b, size, out ulong f);
        if (T.Writes)
        {
            dst = r;
        }
        Rflags = (Rflags & ~Flag.Arith) | f;
    }

    /// <summary>op m, (r | imm), any size: the store happens before the flags change (a faulting store commits nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool AluM<T>(ref Uop u, ulong next) where T : struct, IFastAlu
    {
        int size = u.Size;
        ulong la = FastEa(ref u, next);
        ulong b = u.SrcReg ? Reg(u.R1) & Mask(size) : u.Imm;
        if (!TryRead(la, size, out ulong a))
        {
            return false;
        }
        ulong r = T.Compute(a, b, size, out ulong f);
        if (T.Writes && !TryWrite(la, size, r))
        {
            return false;
        }
        Rflags = (Rflags & ~Flag.Arith) | f;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void IncDecFast(ref ulong dst, int size, bool inc)
    {
        ulong mask = WideMask(size);
        ulong a = dst & mask;
        dst = IncDecValue(a, size, inc, out ulong f);
        Rflags = (Rflags & ~(Flag.Arith & ~Flag.CF)) | f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong IncDecValue(ulong a, int size, bool inc, out ulong f)
    {
        ulong mask = Mask(size);
        int sh = size * 8 - 1;
        ulong r;
        if (inc)
        {
            r = (a + 1) & mask;
            f = Szp(r, size) | ((((a ^ r) & (1 ^ r)) >> sh) & 1) << 11 | ((a ^ 1 ^ r) & Flag.AF);
        }
        else
        {
            r = (a - 1) & mask;
            f = Szp(r, size) | ((((a ^ 1) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ 1 ^ r) & Flag.AF);
        }
        return r;
    }

    private bool IncDecMem(ref Uop u, ulong next, bool inc)
    {
        int size = u.Size;
        ulong la = FastEa(ref u, next);
        if (!TryRead(la, size, out ulong a))
        {
            return false;
        }
        ulong r = IncDecValue(a, size, inc, out ulong f);
        if (!TryWrite(la, size, r))
        {
            return false;
        }
        Rflags = (Rflags & ~(Flag.Arith & ~Flag.CF)) | f;
        return true;
    }

    /// <summary>Shift/rotate of a 32/64-bit register (same results and flags as <see cref="Shift"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ShiftReg(ref Uop u, UopKind k)
    {
        int size = u.Size;
        int cnt = (int)((u.CountCl ? Reg(RCX) : u.Imm) & (size == 8 ? 0x3FUL : 0x1FUL));
        ref ulong dst = ref Reg(u.R0);
        if (cnt == 0)
        {
            if (size == 4)
            {
                dst = (uint)dst;
            }
            return;
        }
        int bits = size * 8;
        ulong mask = WideMask(size);
        ulong a = dst & mask;
        int sh = bits - 1;
        ulong r;
        ulong f = Rflags;
        ulong cf;
        switch (k)
        {
            case UopKind.ShlR:
                r = (a << cnt) & mask;
                cf = (a >> (bits - cnt)) & 1;
                f = (f & ~Flag.Arith) | Szp(r, size) | cf | ((((r >> sh) & 1) ^ cf) << 11);
                break;
            case UopKind.ShrR:
                r = a >> cnt;
                cf = (a >> (cnt - 1)) & 1;
                f = (f & ~Flag.Arith) | Szp(r, size) | cf | (((a >> sh) & 1) << 11);
                break;
            case UopKind.SarR:
                {
                    long sa = (long)(a << (64 - bits)) >> (64 - bits);
                    r = (ulong)(sa >> cnt) & mask;
                    cf = (ulong)(sa >> (cnt - 1)) & 1;
                    f = (f & ~Flag.Arith) | Szp(r, size) | cf;
                    break;
                }
            case UopKind.RolR:
                {
                    int c = cnt & (bits - 1);
                    r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & mask;
                    cf = r & 1;
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | ((((r >> sh) & 1) ^ cf) << 11);
                    break;
                }
            default:
                {
                    int c = cnt & (bits - 1);
                    r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & mask;
                    cf = (r >> sh) & 1;
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | ((((r >> sh) ^ (r >> (sh - 1))) & 1) << 11);
                    break;
                }
        }
        dst = r;
        Rflags = f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ImulFast(ref ulong dst, ulong x, ulong y, int size)
    {
        ulong r;
        bool overflow;
        if (size == 8)
        {
            // signed high half from the unsigned product (Math.BigMul on ulong is an intrinsic)
            ulong hiU = Math.BigMul(x, y, out ulong lo);
            long hi = (long)hiU - ((long)x >> 63 & (long)y) - ((long)y >> 63 & (long)x);
            r = lo;
            overflow = hi != ((long)lo >> 63);
        }
        else
        {
            long p = (long)(int)x * (int)y;
            r = (uint)p;
            overflow = (int)p != p;
        }
        dst = r;
        Rflags = (Rflags & ~Flag.Arith) | Szp(r, size) | (overflow ? Flag.CF | Flag.OF : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong Reg(int index) => ref Unsafe.Add(ref Unsafe.As<GprFile, ulong>(ref Gpr), index);

    /// <summary>Runs blocks until the budget is used up, a breakpoint, a stop or a fault (thrown).</summary>
    private StopReason ExecuteBlocks()
    {
        ulong rip = Rip;
        ulong pos = _recentCount; // ring position of the next instruction
        while (true)
        {
            if (pos >= _posLimit)
            {
                return Leave(StopReason.InstructionLimit, rip, pos);
            }
            if (rip == BreakAt && BreakAt != NoBreak)
            {
                return Leave(StopReason.Breakpoint, rip, pos);
            }
            if (_hostBreaksOn && HostBreakHere(rip, pos))
            {
                return Leave(StopReason.Breakpoint, rip, pos);
            }
            if (--_deadlineCountdown == 0)
            {
                _deadlineCountdown = DeadlineCheckBlocks;
                if (Deadline != long.MaxValue && System.Diagnostics.Stopwatch.GetTimestamp() >= Deadline)
                {
                    return Leave(StopReason.Deadline, rip, pos);
                }
            }
            ref JumpCacheEntry e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_jumpCache), (int)(rip ^ (rip >> 12)) & JumpCacheMask);
            Block? b = e.Block;
            if (e.Rip != rip || e.Gen != _codeGen || !b!.Valid)
            {
                b = LookupBlock(rip, pos, ref e);
            }
            ulong end = pos + (uint)b.Count;
            if (end > _posLimit)
            {
                end = _posLimit;
            }
            if (BreakAt - (rip & ~0xFFFUL) < 0x2000 && BreakAt != NoBreak)
            {
                // the breakpoint may be in this block (its RIPs lie in [page of rip, +4 KiB), or in
                // [rip, rip + 4 KiB) when a code-segment base is not page aligned)
                end = pos + (uint)BreakLimit(b, rip, BreakAt, (int)(end - pos));
            }
            if (_hostBreaksOn)
            {
                end = pos + (uint)HostBreakLimit(b, rip, (int)(end - pos));
            }
            if (_exit)
            {
                // a hook asked for a stop while the block was fetched: run one instruction
                end = pos + 1;
            }
            if (_shadowNext | InterruptShadow)
            {
                // the shadow covers exactly the one instruction after STI / MOV SS / POP SS
                InterruptShadow = _shadowNext;
                _shadowNext = false;
                if (InterruptShadow)
                {
                    end = pos + 1;
                }
            }
            if (_rfArmed)
            {
                // RF from an IRET: the next instruction runs alone, RF is cleared after it
                if (pos >= _rfClearAt)
                {
                    Rflags &= ~Flag.RF;
                    _rfArmed = false;
                }
                else if (end > _rfClearAt)
                {
                    end = _rfClearAt;
                }
            }
            if (_dbgArmed | (Rflags & Flag.TF) != 0)
            {
                // debug traps of the previous instruction, instruction breakpoints of this one
                // (Cpu.Debug.cs): one instruction per dispatch while armed
                if (!DebugBoundary(rip, pos))
                {
                    return Leave(StopReason.Exception, rip, pos);
                }
                end = pos + 1;
            }
            _posEnd = end;
            ref Uop u = ref MemoryMarshal.GetArrayDataReference(b.Ops);
            ulong v;
            while (true)
            {
                // this instruction has started: its ring entry and position are what hooks and
                // faults see; rip becomes the next instruction's address
                Unsafe.Add(ref Unsafe.As<RecentRing, ulong>(ref _recentRips), (int)pos & (RecentCapacity - 1)) = rip;
                _curPos = pos;
                rip += u.Len;
                switch (u.K)
                {
                    case UopKind.Nop:
                        break;
                    case UopKind.MovRR:
                        Reg(u.R0) = Reg(u.R1) & WideMask(u.Size);
                        break;
                    case UopKind.MovRI:
                        Reg(u.R0) = u.Imm;
                        break;
                    case UopKind.MovRM:
                        if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted;
                        Reg(u.R0) = v;
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.MovMR:
                        if (!TryWrite(FastEa(ref u, rip), u.Size, Reg(u.R1))) goto faulted;
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.MovMI:
                        if (!TryWrite(FastEa(ref u, rip), u.Size, u.Imm)) goto faulted;
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.Lea:
                        Reg(u.R0) = FastEa(ref u, rip) & WideMask(u.Size);
                        break;
                    case UopKind.MovzxRR:
                        Reg(u.R0) = Reg(u.R1) & Mask(u.Size1);
                        break;
                    case UopKind.MovzxRM:
                        if (!TryRead(FastEa(ref u, rip), u.Size1, out v)) goto faulted;
                        Reg(u.R0) = v;
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.MovsxRR:
                        {
                            int sx = 64 - u.Size1 * 8;
                            Reg(u.R0) = (ulong)((long)(Reg(u.R1) << sx) >> sx) & WideMask(u.Size);
                            break;
                        }
                    case UopKind.MovsxRM:
                        {
                            int sx = 64 - u.Size1 * 8;
                            if (!TryRead(FastEa(ref u, rip), u.Size1, out v)) goto faulted;
                            Reg(u.R0) = (ulong)((long)(v << sx) >> sx) & WideMask(u.Size);
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.AddRR: AluR<FAdd>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.AddRI: AluR<FAdd>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.AddRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FAdd>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.AddM: if (!AluM<FAdd>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.OrRR: AluR<FOr>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.OrRI: AluR<FOr>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.OrRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FOr>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.OrM: if (!AluM<FOr>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.AndRR: AluR<FAnd>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.AndRI: AluR<FAnd>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.AndRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FAnd>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.AndM: if (!AluM<FAnd>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.SubRR: AluR<FSub>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.SubRI: AluR<FSub>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.SubRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FSub>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.SubM: if (!AluM<FSub>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.XorRR: AluR<FXor>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.XorRI: AluR<FXor>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.XorRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FXor>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.XorM: if (!AluM<FXor>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.CmpRR: AluR<FCmp>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.CmpRI: AluR<FCmp>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.CmpRM: if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted; AluR<FCmp>(ref Reg(u.R0), v, u.Size); if (_exit) goto leaveBlock; break;
                    case UopKind.CmpM: if (!AluM<FCmp>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.TestRR: AluR<FTest>(ref Reg(u.R0), Reg(u.R1) & WideMask(u.Size), u.Size); break;
                    case UopKind.TestRI: AluR<FTest>(ref Reg(u.R0), u.Imm, u.Size); break;
                    case UopKind.TestM: if (!AluM<FTest>(ref u, rip)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.IncR: IncDecFast(ref Reg(u.R0), u.Size, true); break;
                    case UopKind.DecR: IncDecFast(ref Reg(u.R0), u.Size, false); break;
                    case UopKind.IncM: if (!IncDecMem(ref u, rip, true)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.DecM: if (!IncDecMem(ref u, rip, false)) goto faulted; if (_exit) goto leaveBlock; break;
                    case UopKind.ShlR: ShiftReg(ref u, UopKind.ShlR); break;
                    case UopKind.ShrR: ShiftReg(ref u, UopKind.ShrR); break;
                    case UopKind.SarR: ShiftReg(ref u, UopKind.SarR); break;
                    case UopKind.RolR: ShiftReg(ref u, UopKind.RolR); break;
                    case UopKind.RorR: ShiftReg(ref u, UopKind.RorR); break;
                    case UopKind.ImulRR:
                        ImulFast(ref Reg(u.R0), Reg(u.R0), Reg(u.R1), u.Size);
                        break;
                    case UopKind.ImulRM:
                        if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted;
                        ImulFast(ref Reg(u.R0), Reg(u.R0), v, u.Size);
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.ImulRRI:
                        ImulFast(ref Reg(u.R0), Reg(u.R1), u.Imm, u.Size);
                        break;
                    case UopKind.ImulRMI:
                        if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted;
                        ImulFast(ref Reg(u.R0), v, u.Imm, u.Size);
                        if (_exit) goto leaveBlock;
                        break;
                    case UopKind.CmovRR:
                        {
                            ref ulong dst = ref Reg(u.R0);
                            ulong src = Reg(u.R1) & WideMask(u.Size);
                            dst = CondFast(u.Size1) ? src : dst & WideMask(u.Size);
                            break;
                        }
                    case UopKind.CmovRM:
                        {
                            if (!TryRead(FastEa(ref u, rip), u.Size, out v)) goto faulted;
                            ref ulong dst = ref Reg(u.R0);
                            dst = CondFast(u.Size1) ? v : dst & WideMask(u.Size);
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.SetccR:
                        {
                            ref ulong dst = ref Reg(u.R0);
                            dst = (dst & ~0xFFUL) | (CondFast(u.Size1) ? 1UL : 0UL);
                            break;
                        }
                    case UopKind.PushR:
                        {
                            ulong sp = Reg(RSP) - 8;
                            if (!TryWrite(sp, 8, Reg(u.R0))) goto faulted;
                            Reg(RSP) = sp;
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.PushI:
                        {
                            ulong sp = Reg(RSP) - 8;
                            if (!TryWrite(sp, 8, u.Imm)) goto faulted;
                            Reg(RSP) = sp;
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.PopR:
                        {
                            ulong sp = Reg(RSP);
                            if (!TryRead(sp, 8, out v)) goto faulted;
                            Reg(RSP) = sp + 8;
                            Reg(u.R0) = v;
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.Jcc:
                        if (CondFast(u.Size1))
                        {
                            rip += u.Imm;
                            goto leaveBlock;
                        }
                        break;
                    case UopKind.Jmp:
                        rip += u.Imm;
                        break;
                    case UopKind.JmpR:
                        rip = Reg(u.R0);
                        goto leaveBlock;
                    case UopKind.JmpM:
                        if (!TryRead(FastEa(ref u, rip), 8, out v)) goto faulted;
                        rip = v;
                        goto leaveBlock;
                    case UopKind.Call:
                        {
                            ulong sp = Reg(RSP) - 8;
                            if (!TryWrite(sp, 8, rip)) goto faulted;
                            Reg(RSP) = sp;
                            rip += u.Imm;
                            if (_exit) goto leaveBlock;
                            break;
                        }
                    case UopKind.CallR:
                    case UopKind.CallM:
                        {
                            if (u.K == UopKind.CallR) v = Reg(u.R0);
                            else if (!TryRead(FastEa(ref u, rip), 8, out v)) goto faulted;
                            ulong target = v;
                            ulong sp = Reg(RSP) - 8;
                            if (!TryWrite(sp, 8, rip)) goto faulted;
                            Reg(RSP) = sp;
                            rip = target;
                            goto leaveBlock;
                        }
                    case UopKind.Ret:
                        {
                            ulong sp = Reg(RSP);
                            if (!TryRead(sp, 8, out v)) goto faulted;
                            Reg(RSP) = sp + 8 + u.Imm;
                            rip = v;
                            goto leaveBlock;
                        }
                    case UopKind.Generic:
                        if (!ExecuteGeneric(ref u, rip))
                        {
                            goto stopped;
                        }
                        rip = Rip;
                        if (_exit) goto leaveBlock;
                        break;
                    default: // GenericEnd
                        if (!ExecuteGeneric(ref u, rip))
                        {
                            goto stopped;
                        }
                        rip = Rip;
                        goto leaveBlock;
                }
                if (++pos == _posEnd)
                {
                    goto blockDone;
                }
                u = ref Unsafe.Add(ref u, 1);
            }
        leaveBlock:
            // the instruction completed and decided RIP (branch, stop request, code write)
            pos++;
        blockDone:
            if (_exit)
            {
                if (_stopRequested)
                {
                    return Leave(StopReason.InstructionLimit, rip, pos);
                }
                _exit = false;
            }
            continue;
        stopped:
            // a host hook refused the instruction (RefusedByHook): a fault in _softFault, nothing committed
            if (_stop == StopReason.Exception) return StopReason.Exception;
            // HLT: the instruction completed, RIP points after it (a single-step trap after it is
            // delivered now, not after the wait)
            if (_stop == StopReason.Halted && (_dbgArmed | _dbgStepThis) && TakePendingTrap(pos + 1))
            {
                return Leave(StopReason.Exception, Rip, pos + 1);
            }
            return Leave(_stop, Rip, pos + 1);
        faulted:
            // a micro-op's access faulted (in _softFault) and committed nothing; Run accounts for
            // it at ring position _curPos like a thrown fault
            return StopReason.Exception;
        }
    }

    /// <summary>Runs a micro-op through the full handler (RIP = the next instruction, as the handlers expect).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ExecuteGeneric(ref Uop u, ulong next)
    {
        Rip = next & _ipMask;
        bool completed = Execute(u.D);
        // a generic instruction may change what a cached translation was checked under (RFLAGS.AC
        // through POPF/IRET/SYSRET/SYSCALL, CPL, control registers): drop what is stale
        SyncTranslationContext();
        return completed;
    }

    private StopReason Leave(StopReason reason, ulong rip, ulong pos)
    {
        Rip = rip;
        if (_rfArmed && pos >= _rfClearAt)
        {
            Rflags &= ~Flag.RF;
            _rfArmed = false;
        }
        _recentCount = pos;
        return reason;
    }
}
