using System.Numerics;
using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>Operand access, effective addresses, flags helpers and the stack.</summary>
public sealed unsafe partial class Cpu
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mask(int size) => size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong EaNoSeg(DecodedOp d)
    {
        ulong ea = (ulong)d.Disp;
        byte b = d.Base;
        if (b != DecodedOp.NoReg)
        {
            ea += b == DecodedOp.RipReg ? Rip : Gpr[b];
        }
        if (d.Index != DecodedOp.NoReg)
        {
            ea += Gpr[d.Index] << d.Scale;
        }
        return ea & d.AddrMask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Ea(DecodedOp d) => (EaNoSeg(d) + _segBase[d.Seg]) & _ipMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong GetReg(byte r, int size)
    {
        switch (size)
        {
            case 8: return Gpr[r];
            case 4: return (uint)Gpr[r];
            case 2: return (ushort)Gpr[r];
            default: return r >= 16 ? (byte)(Gpr[r - 16] >> 8) : (byte)Gpr[r];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetReg(byte r, int size, ulong v)
    {
        switch (size)
        {
            case 8: Gpr[r] = v; break;
            case 4: Gpr[r] = (uint)v; break;
            case 2: Gpr[r] = (Gpr[r] & ~0xFFFFUL) | (ushort)v; break;
            default:
                if (r >= 16)
                {
                    Gpr[r - 16] = (Gpr[r - 16] & ~0xFF00UL) | ((v & 0xFF) << 8);
                }
                else
                {
                    Gpr[r] = (Gpr[r] & ~0xFFUL) | (byte)v;
                }
                break;
        }
    }

    /// <summary>Reads operand 1 (register, immediate or memory) at the instruction's operand size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Src1(DecodedOp d, int size)
    {
        switch (d.K1)
        {
            case OperandKind.Reg: return GetReg(d.R1, size);
            case OperandKind.Imm: return d.Imm & Mask(size);
            default: return Read(Ea(d), size);
        }
    }

    /// <summary>Reads operand 0 (register or memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Dst0(DecodedOp d, int size) => d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(Ea(d), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetDst0(DecodedOp d, int size, ulong v)
    {
        if (d.K0 == OperandKind.Reg)
        {
            SetReg(d.R0, size, v);
        }
        else
        {
            Write(Ea(d), size, v);
        }
    }

    // ---- flags ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Szp(ulong r, int size)
    {
        ulong f = ((r >> (size * 8 - 1)) & 1) << 7;
        if (r == 0)
        {
            f |= Flag.ZF;
        }
        f |= (ulong)(~BitOperations.PopCount((uint)(byte)r) & 1) << 2;
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetStatus(ulong f) => Rflags = (Rflags & ~Flag.Arith) | f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Cond(int cc)
    {
        ulong f = Rflags;
        bool r;
        switch (cc >> 1)
        {
            case 0: r = (f & Flag.OF) != 0; break;
            case 1: r = (f & Flag.CF) != 0; break;
            case 2: r = (f & Flag.ZF) != 0; break;
            case 3: r = (f & (Flag.CF | Flag.ZF)) != 0; break;
            case 4: r = (f & Flag.SF) != 0; break;
            case 5: r = (f & Flag.PF) != 0; break;
            case 6: r = ((f >> 7) & 1) != ((f >> 11) & 1); break;
            default: r = (f & Flag.ZF) != 0 || ((f >> 7) & 1) != ((f >> 11) & 1); break;
        }
        return r ^ ((cc & 1) != 0);
    }

    /// <summary>Computes a two-operand ALU result and its flags (eager).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Alu(Handler h, ulong a, ulong b, int size)
    {
        ulong mask = Mask(size);
        int sh = size * 8 - 1;
        ulong r;
        switch (h)
        {
            case Handler.Add:
                r = (a + b) & mask;
                SetStatus(Szp(r, size) | (r < a ? Flag.CF : 0) | ((((a ^ r) & (b ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
                return r;
            case Handler.Adc:
                {
                    ulong c = Rflags & 1;
                    r = (a + b + c) & mask;
                    bool cf = c != 0 ? r <= a : r < a;
                    SetStatus(Szp(r, size) | (cf ? Flag.CF : 0) | ((((a ^ r) & (b ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
                    return r;
                }
            case Handler.Sub:
            case Handler.Cmp:
                r = (a - b) & mask;
                SetStatus(Szp(r, size) | (a < b ? Flag.CF : 0) | ((((a ^ b) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
                return r;
            case Handler.Sbb:
                {
                    ulong c = Rflags & 1;
                    r = (a - b - c) & mask;
                    bool cf = c != 0 ? a <= b : a < b;
                    SetStatus(Szp(r, size) | (cf ? Flag.CF : 0) | ((((a ^ b) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
                    return r;
                }
            case Handler.And:
            case Handler.Test:
                r = a & b;
                SetStatus(Szp(r, size));
                return r;
            case Handler.Or:
                r = a | b;
                SetStatus(Szp(r, size));
                return r;
            default: // Xor
                r = a ^ b;
                SetStatus(Szp(r, size));
                return r;
        }
    }

    // ---- stack ----

    private ulong SpMask => Bitness == 64 ? ulong.MaxValue : (Segments[SS].DefaultBig ? 0xFFFF_FFFFUL : 0xFFFFUL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Push(ulong v, int size)
    {
        ulong sp = Gpr[RSP] - (ulong)size;
        if (Bitness != 64)
        {
            sp &= SpMask;
        }
        Write((sp + _segBase[SS]) & _ipMask, size, v);
        SetSp(sp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Pop(int size)
    {
        ulong sp = Gpr[RSP];
        if (Bitness != 64)
        {
            sp &= SpMask; // a 16-bit stack (SS.B = 0) addresses with SP only
        }
        ulong v = Read((sp + _segBase[SS]) & _ipMask, size);
        SetSp(sp + (ulong)size);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetSp(ulong sp)
    {
        if (Bitness == 64)
        {
            Gpr[RSP] = sp;
        }
        else
        {
            ulong m = SpMask;
            Gpr[RSP] = (Gpr[RSP] & ~m) | (sp & m);
        }
    }

    private ulong PeekStack(ulong offset, int size) => Bitness == 64
        ? Read(Gpr[RSP] + offset, size)
        : Read((((Gpr[RSP] + offset) & SpMask) + _segBase[SS]) & _ipMask, size);
}
