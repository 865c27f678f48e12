using System.Runtime.CompilerServices;
using System.Numerics;

namespace HekiGuest.HostSim.Cpu;

/// <summary>The dispatch switch and the integer, control-flow and string semantics.</summary>
public sealed unsafe partial class Cpu
{
    /// <summary>Executes one decoded instruction; false stops the run loop (with <see cref="_stop"/>).</summary>
    private bool Execute(DecodedOp d)
    {
        int size = d.Size;
        switch (d.H)
        {
            case Handler.Mov:
                if (d.K0 == OperandKind.Reg)
                {
                    SetReg(d.R0, size, Src1(d, size));
                }
                else
                {
                    ulong v = d.K1 == OperandKind.Reg ? GetReg(d.R1, size) : d.Imm;
                    Write(Ea(d), size, v);
                }
                return true;
            case Handler.Add: AluRm<AddOp>(d); return true;
            case Handler.Sub:
                if (d.K0 == OperandKind.Reg && d.K1 == OperandKind.Reg && d.R0 == d.R1)
                {
                    SetReg(d.R0, size, 0);
                    SetStatus(Flag.ZF | Flag.PF);
                    return true;
                }
                AluRm<SubOp>(d);
                return true;
            case Handler.Xor:
                if (d.K0 == OperandKind.Reg && d.K1 == OperandKind.Reg && d.R0 == d.R1)
                {
                    SetReg(d.R0, size, 0);
                    SetStatus(Flag.ZF | Flag.PF);
                    return true;
                }
                AluRm<XorOp>(d);
                return true;
            case Handler.And: AluRm<AndOp>(d); return true;
            case Handler.Or: AluRm<OrOp>(d); return true;
            case Handler.Adc: AluRm<AdcOp>(d); return true;
            case Handler.Sbb: AluRm<SbbOp>(d); return true;
            case Handler.Cmp: AluRm<CmpOp>(d); return true;
            case Handler.Test: AluRm<TestOp>(d); return true;
            case Handler.Inc:
            case Handler.Dec:
                IncDec(d, size);
                return true;
            case Handler.Neg:
                {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ulong a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
                    ulong r = (0 - a) & Mask(size);
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, r); else Write(la, size, r);
                    int sh = size * 8 - 1;
                    SetStatus(Szp(r, size) | (a != 0 ? Flag.CF : 0) | (((a & r) >> sh) & 1) << 11 | ((a ^ r) & Flag.AF));
                    return true;
                }
            case Handler.Not:
                {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ulong a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, ~a); else Write(la, size, ~a);
                    return true;
                }
            case Handler.Lea:
                SetReg(d.R0, size, EaNoSeg(d));
                return true;
            case Handler.Movzx:
                SetReg(d.R0, size, d.K1 == OperandKind.Reg ? GetReg(d.R1, d.Size1) : Read(Ea(d), d.Size1));
                return true;
            case Handler.Movsx:
                {
                    ulong v = d.K1 == OperandKind.Reg ? GetReg(d.R1, d.Size1) : Read(Ea(d), d.Size1);
                    int sh = 64 - d.Size1 * 8;
                    SetReg(d.R0, size, (ulong)((long)(v << sh) >> sh));
                    return true;
                }
            case Handler.Jcc:
                if (Cond(d.Cond))
                {
                    Rip = (Rip + (ulong)d.Rel) & _ipMask;
                }
                return true;
            case Handler.Jmp:
                Rip = (Rip + (ulong)d.Rel) & _ipMask;
                return true;
            case Handler.JmpIndirect:
                Rip = Dst0(d, size) & _ipMask;
                return true;
            case Handler.Call:
                Push(Rip, size);
                Rip = (Rip + (ulong)d.Rel) & _ipMask;
                return true;
            case Handler.CallIndirect:
                {
                    ulong target = Dst0(d, d.Size1);
                    Push(Rip, size);
                    Rip = target & _ipMask;
                    return true;
                }
            case Handler.Ret:
                {
                    ulong target = PeekStack(0, size);
                    SetSp(Gpr[RSP] + (ulong)size + d.Imm);
                    Rip = target & _ipMask;
                    return true;
                }
            case Handler.Push:
                {
                    ulong v = d.K0 == OperandKind.Imm ? d.Imm : Dst0(d, size);
                    Push(v, size);
                    return true;
                }
            case Handler.Pop:
                {
                    ulong v = PeekStack(0, size);
                    ulong oldSp = Gpr[RSP];
                    SetSp(oldSp + (ulong)size);
                    if (d.K0 == OperandKind.Reg)
                    {
                        SetReg(d.R0, size, v);
                    }
                    else
                    {
                        PopToMemory(d, size, v, oldSp);
                    }
                    return true;
                }
            case Handler.Setcc:
                SetDst0(d, 1, Cond(d.Cond) ? 1UL : 0UL);
                return true;
            case Handler.Cmovcc:
                {
                    ulong v = Src1(d, size);
                    if (Cond(d.Cond))
                    {
                        SetReg(d.R0, size, v);
                    }
                    else if (size == 4)
                    {
                        Gpr[d.R0] = (uint)Gpr[d.R0];
                    }
                    return true;
                }
            case Handler.Nop:
                return true;
            case Handler.Shl:
            case Handler.Shr:
            case Handler.Sar:
            case Handler.Rol:
            case Handler.Ror:
            case Handler.Rcl:
            case Handler.Rcr:
                Shift(d, size);
                return true;
            case Handler.Shld:
            case Handler.Shrd:
                DoubleShift(d, size);
                return true;
            case Handler.Mul:
            case Handler.Imul1:
                MulOneOperand(d, size);
                return true;
            case Handler.Imul2:
                Imul(d, size);
                return true;
            case Handler.Div:
            case Handler.Idiv:
                Divide(d, size);
                return true;
            case Handler.Cbw:
                switch (size)
                {
                    case 2: SetReg(RAX, 2, (ulong)(long)(sbyte)Gpr[RAX]); break;
                    case 4: Gpr[RAX] = (uint)(int)(short)Gpr[RAX]; break;
                    default: Gpr[RAX] = (ulong)(long)(int)Gpr[RAX]; break;
                }
                return true;
            case Handler.Cwd:
                {
                    bool neg = ((Gpr[RAX] >> (size * 8 - 1)) & 1) != 0;
                    SetReg(RDX, size, neg ? ulong.MaxValue : 0);
                    return true;
                }
            case Handler.Xchg:
                {
                    if (d.K0 == OperandKind.Reg && d.K1 == OperandKind.Reg)
                    {
                        ulong a = GetReg(d.R0, size);
                        ulong b = GetReg(d.R1, size);
                        SetReg(d.R0, size, b);
                        SetReg(d.R1, size, a);
                    }
                    else
                    {
                        byte reg = d.K0 == OperandKind.Reg ? d.R0 : d.R1;
                        ulong la = Ea(d);
                        ulong m = Read(la, size);
                        Write(la, size, GetReg(reg, size));
                        SetReg(reg, size, m);
                    }
                    return true;
                }
            case Handler.Cmpxchg:
                {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ulong dst = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
                    ulong acc = GetReg(RAX, size);
                    Alu(Handler.Cmp, acc, dst, size);
                    if (acc == dst)
                    {
                        ulong src = GetReg(d.R1, size);
                        if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, src); else Write(la, size, src);
                    }
                    else
                    {
                        if (d.K0 == OperandKind.Mem) Write(la, size, dst);
                        SetReg(RAX, size, dst);
                    }
                    return true;
                }
            case Handler.Xadd:
                {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ulong dst = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
                    ulong src = GetReg(d.R1, size);
                    ulong sum = Alu(Handler.Add, dst, src, size);
                    if (d.K0 == OperandKind.Mem)
                    {
                        ProbeWrite(la, size);
                        SetReg(d.R1, size, dst);
                        Write(la, size, sum);
                    }
                    else
                    {
                        SetReg(d.R1, size, dst);
                        SetReg(d.R0, size, sum);
                    }
                    return true;
                }
            case Handler.Cmpxchg16b:
                {
                    ulong la = Ea(d);
                    if ((la & 15) != 0)
                    {
                        Raise(GuestFault.GP());
                    }
                    ProbeWrite(la, 16);
                    ulong lo = Read(la, 8), hi = Read(la + 8, 8);
                    if (lo == Gpr[RAX] && hi == Gpr[RDX])
                    {
                        Write(la, 8, Gpr[RBX]);
                        Write(la + 8, 8, Gpr[RCX]);
                        Rflags |= Flag.ZF;
                    }
                    else
                    {
                        Write(la, 8, lo);
                        Write(la + 8, 8, hi);
                        Gpr[RAX] = lo;
                        Gpr[RDX] = hi;
                        Rflags &= ~Flag.ZF;
                    }
                    return true;
                }
            case Handler.Cmpxchg8b:
                {
                    ulong la = Ea(d);
                    ProbeWrite(la, 8);
                    ulong m = Read(la, 8);
                    ulong cmp = (uint)Gpr[RAX] | ((ulong)(uint)Gpr[RDX] << 32);
                    if (m == cmp)
                    {
                        Write(la, 8, (uint)Gpr[RBX] | ((ulong)(uint)Gpr[RCX] << 32));
                        Rflags |= Flag.ZF;
                    }
                    else
                    {
                        Write(la, 8, m);
                        Gpr[RAX] = (uint)m;
                        Gpr[RDX] = m >> 32;
                        Rflags &= ~Flag.ZF;
                    }
                    return true;
                }
            case Handler.Bswap:
                if (size == 8) Gpr[d.R0] = BinaryPrimitivesReverse(Gpr[d.R0]);
                else if (size == 4) Gpr[d.R0] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)Gpr[d.R0]);
                else SetReg(d.R0, 2, 0); // BSWAP r16 is undefined; zero like most CPUs
                return true;
            case Handler.Bt:
            case Handler.Bts:
            case Handler.Btr:
            case Handler.Btc:
                BitTest(d, size);
                return true;
            case Handler.Bsf:
            case Handler.Bsr:
                {
                    ulong v = Src1(d, size);
                    if (v == 0)
                    {
                        SetStatus(Flag.ZF);
                    }
                    else
                    {
                        int idx = d.H == Handler.Bsf ? BitOperations.TrailingZeroCount(v) : 63 - BitOperations.LeadingZeroCount(v);
                        SetReg(d.R0, size, (ulong)idx);
                        SetStatus(0);
                    }
                    return true;
                }
            case Handler.Tzcnt:
                {
                    ulong v = Src1(d, size);
                    int bits = size * 8;
                    int n = v == 0 ? bits : BitOperations.TrailingZeroCount(v);
                    SetReg(d.R0, size, (ulong)n);
                    SetStatus((v == 0 ? Flag.CF : 0) | (n == 0 ? Flag.ZF : 0));
                    return true;
                }
            case Handler.Lzcnt:
                {
                    ulong v = Src1(d, size);
                    int bits = size * 8;
                    int n = v == 0 ? bits : BitOperations.LeadingZeroCount(v) - (64 - bits);
                    SetReg(d.R0, size, (ulong)n);
                    SetStatus((v == 0 ? Flag.CF : 0) | (n == 0 ? Flag.ZF : 0));
                    return true;
                }
            case Handler.Popcnt:
                {
                    ulong v = Src1(d, size);
                    SetReg(d.R0, size, (ulong)BitOperations.PopCount(v));
                    SetStatus(v == 0 ? Flag.ZF : 0);
                    return true;
                }
            case Handler.Andn:
                {
                    ulong a = GetReg(d.R1, size);
                    ulong b = d.K2 == OperandKind.Reg ? GetReg(d.R2, size) : Read(Ea(d), size);
                    ulong r = ~a & b & Mask(size);
                    SetReg(d.R0, size, r);
                    SetStatus(Szp(r, size) & (Flag.ZF | Flag.SF));
                    return true;
                }
            case Handler.Clc: Rflags &= ~Flag.CF; return true;
            case Handler.Stc: Rflags |= Flag.CF; return true;
            case Handler.Cmc: Rflags ^= Flag.CF; return true;
            case Handler.Cld: Rflags &= ~Flag.DF; return true;
            case Handler.Std: Rflags |= Flag.DF; return true;
            case Handler.Lahf:
                SetReg(16 + RAX, 1, (Rflags & (Flag.SF | Flag.ZF | Flag.AF | Flag.PF | Flag.CF)) | 2);
                return true;
            case Handler.Sahf:
                {
                    ulong ah = (Gpr[RAX] >> 8) & 0xFF;
                    ulong m = Flag.SF | Flag.ZF | Flag.AF | Flag.PF | Flag.CF;
                    Rflags = (Rflags & ~m) | (ah & m);
                    return true;
                }
            case Handler.Jrcxz:
                if ((Gpr[RCX] & Mask(d.Aux)) == 0)
                {
                    Rip = (Rip + (ulong)d.Rel) & _ipMask;
                }
                return true;
            case Handler.Loop:
            case Handler.Loope:
            case Handler.Loopne:
                {
                    ulong m = Mask(d.Aux);
                    ulong c = (Gpr[RCX] - 1) & m;
                    Gpr[RCX] = (Gpr[RCX] & ~m) | c;
                    if (d.Aux == 4)
                    {
                        Gpr[RCX] = c;
                    }
                    bool zf = (Rflags & Flag.ZF) != 0;
                    bool take = c != 0 && (d.H == Handler.Loop || (d.H == Handler.Loope ? zf : !zf));
                    if (take)
                    {
                        Rip = (Rip + (ulong)d.Rel) & _ipMask;
                    }
                    return true;
                }
            case Handler.Leave:
                {
                    ulong bp = Gpr[RBP];
                    ulong v = Read((bp + _segBase[SS]) & _ipMask, size);
                    SetSp(bp + (ulong)size);
                    SetReg(RBP, size, v);
                    return true;
                }
            case Handler.Enter:
                Enter(d, size);
                return true;
            case Handler.Pushf:
                RequireV86Iopl();
                Push(Rflags & ~(Flag.VM | Flag.RF), size);
                return true;
            case Handler.Popf:
                RequireV86Iopl();
                Popf(size);
                return true;
            case Handler.Movs:
            case Handler.Stos:
            case Handler.Lods:
            case Handler.Cmps:
            case Handler.Scas:
                StringOp(d, size);
                return true;
            case Handler.Invalid:
                Raise(GuestFault.UD()); // architecturally undefined: a plain #UD, like a CPU
                return false;
            case Handler.Unimplemented:
                RaiseUnimplemented(d, "instruction not implemented by the hostsim core");
                return false;
            default:
                if (d.H >= Handler.MovScalar32)
                {
                    ExecuteSse(d);
                    return true;
                }
                return ExecuteSystem(d);
        }
    }

    private void PopToMemory(DecodedOp d, int size, ulong v, ulong oldSp)
    {
        // the address is computed with the incremented RSP; a faulting store must leave RSP unchanged
        try
        {
            Write(Ea(d), size, v);
        }
        catch (GuestFaultException)
        {
            Gpr[RSP] = oldSp;
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void IncDec(DecodedOp d, int size)
    {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ulong a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
                    ulong mask = Mask(size);
                    int sh = size * 8 - 1;
                    ulong r;
                    ulong f;
                    if (d.H == Handler.Inc)
                    {
                        r = (a + 1) & mask;
                        f = Szp(r, size) | ((((a ^ r) & (1 ^ r)) >> sh) & 1) << 11 | ((a ^ 1 ^ r) & Flag.AF);
                    }
                    else
                    {
                        r = (a - 1) & mask;
                        f = Szp(r, size) | ((((a ^ 1) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ 1 ^ r) & Flag.AF);
                    }
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, r); else Write(la, size, r);
                    Rflags = (Rflags & ~(Flag.Arith & ~Flag.CF)) | f;
                    
                }

    private static ulong BinaryPrimitivesReverse(ulong v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);

    private void Shift(DecodedOp d, int size)
    {
        int bits = size * 8;
        int cnt = (int)((d.Aux == 1 ? Gpr[RCX] : d.Imm) & (size == 8 ? 0x3FUL : 0x1FUL));
        if (cnt == 0)
        {
            // still touches memory operands (may fault); a 32-bit register is still zero-extended
            Dst0(d, size);
            if (size == 4 && d.K0 == OperandKind.Reg)
            {
                Gpr[d.R0] = (uint)Gpr[d.R0];
            }
            return;
        }
        ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
        ulong a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
        ulong mask = Mask(size);
        int sh = bits - 1;
        ulong r;
        ulong f = Rflags;
        ulong cf;
        switch (d.H)
        {
            case Handler.Shl:
                r = cnt >= 64 ? 0 : (a << cnt) & mask;
                cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
                f = (f & ~Flag.Arith) | Szp(r, size) | cf | ((((r >> sh) & 1) ^ cf) << 11);
                break;
            case Handler.Shr:
                r = cnt >= 64 ? 0 : a >> cnt;
                cf = cnt <= 64 ? (a >> (cnt - 1)) & 1 : 0;
                f = (f & ~Flag.Arith) | Szp(r, size) | cf | (((a >> sh) & 1) << 11);
                break;
            case Handler.Sar:
                {
                    long sa = (long)(a << (64 - bits)) >> (64 - bits);
                    r = (ulong)(sa >> Math.Min(cnt, 63)) & mask;
                    cf = (ulong)(sa >> Math.Min(cnt - 1, 63)) & 1;
                    f = (f & ~Flag.Arith) | Szp(r, size) | cf;
                    break;
                }
            case Handler.Rol:
                {
                    int c = cnt & (bits - 1);
                    r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & mask;
                    cf = r & 1;
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | ((((r >> sh) & 1) ^ cf) << 11);
                    break;
                }
            case Handler.Ror:
                {
                    int c = cnt & (bits - 1);
                    r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & mask;
                    cf = (r >> sh) & 1;
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | ((((r >> sh) ^ (r >> (sh - 1))) & 1) << 11);
                    break;
                }
            case Handler.Rcl:
                {
                    int c = size <= 2 ? cnt % (bits + 1) : cnt;
                    r = a;
                    cf = f & 1;
                    for (int i = 0; i < c; i++)
                    {
                        ulong top = (r >> sh) & 1;
                        r = ((r << 1) | cf) & mask;
                        cf = top;
                    }
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | ((((r >> sh) & 1) ^ cf) << 11);
                    break;
                }
            default: // Rcr
                {
                    int c = size <= 2 ? cnt % (bits + 1) : cnt;
                    r = a;
                    cf = f & 1;
                    ulong of = (((r >> sh) & 1) ^ cf) << 11;
                    for (int i = 0; i < c; i++)
                    {
                        ulong low = r & 1;
                        r = (r >> 1) | (cf << sh);
                        cf = low;
                    }
                    f = (f & ~(Flag.CF | Flag.OF)) | cf | of;
                    break;
                }
        }
        if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, r); else Write(la, size, r);
        Rflags = f;
    }

    private void DoubleShift(DecodedOp d, int size)
    {
        int bits = size * 8;
        int cnt = (int)((d.Aux == 1 ? Gpr[RCX] : d.Imm) & (size == 8 ? 0x3FUL : 0x1FUL));
        if (cnt == 0)
        {
            // still touches memory operands (may fault); a 32-bit register is still zero-extended
            Dst0(d, size);
            if (size == 4 && d.K0 == OperandKind.Reg)
            {
                Gpr[d.R0] = (uint)Gpr[d.R0];
            }
            return;
        }
        ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
        ulong a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
        ulong b = GetReg(d.R1, size);
        ulong mask = Mask(size);
        int sh = bits - 1;
        ulong r, cf;
        if (size == 2 && cnt > 16)
        {
            // 16-bit counts above 16 are architecturally undefined; model a dst:src:dst funnel
            ulong w = (a << 32) | (b << 16) | a;
            if (d.H == Handler.Shld)
            {
                r = (ulong)(((UInt128)w << cnt) >> 32) & mask;
                cf = (w >> (48 - cnt)) & 1;
            }
            else
            {
                r = (w >> cnt) & mask;
                cf = (w >> (cnt - 1)) & 1;
            }
        }
        else if (d.H == Handler.Shld)
        {
            r = ((a << cnt) | (b >> (bits - cnt))) & mask;
            cf = (a >> (bits - cnt)) & 1;
        }
        else
        {
            r = ((a >> cnt) | (b << (bits - cnt))) & mask;
            cf = (a >> (cnt - 1)) & 1;
        }
        ulong of = (((a ^ r) >> sh) & 1) << 11;
        if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, r); else Write(la, size, r);
        SetStatus(Szp(r, size) | cf | of);
    }

    private void MulOneOperand(DecodedOp d, int size)
    {
        ulong src = Dst0(d, size);
        bool signed = d.H == Handler.Imul1;
        ulong lo, hi;
        bool overflow;
        switch (size)
        {
            case 1:
                {
                    ulong p = signed ? (ulong)((sbyte)Gpr[RAX] * (long)(sbyte)src) : (byte)Gpr[RAX] * src;
                    SetReg(RAX, 2, p);
                    lo = p & 0xFF;
                    overflow = signed ? (long)(sbyte)p != (long)(short)p : (p >> 8 & 0xFF) != 0;
                    break;
                }
            case 2:
                {
                    ulong p = signed ? (ulong)((short)Gpr[RAX] * (long)(short)src) : (ushort)Gpr[RAX] * src;
                    SetReg(RAX, 2, p);
                    SetReg(RDX, 2, p >> 16);
                    lo = p & 0xFFFF;
                    overflow = signed ? (long)(short)p != (long)(int)p : (p >> 16 & 0xFFFF) != 0;
                    break;
                }
            case 4:
                {
                    ulong p = signed ? (ulong)((int)Gpr[RAX] * (long)(int)src) : (uint)Gpr[RAX] * src;
                    Gpr[RAX] = (uint)p;
                    Gpr[RDX] = p >> 32;
                    lo = (uint)p;
                    overflow = signed ? (long)(int)p != (long)p : (p >> 32) != 0;
                    break;
                }
            default:
                if (signed)
                {
                    long h = Math.BigMul((long)Gpr[RAX], (long)src, out long l);
                    lo = (ulong)l;
                    hi = (ulong)h;
                    overflow = h != (l >> 63);
                }
                else
                {
                    hi = Math.BigMul(Gpr[RAX], src, out lo);
                    overflow = hi != 0;
                }
                Gpr[RAX] = lo;
                Gpr[RDX] = hi;
                break;
        }
        SetStatus(Szp(lo & Mask(size), size) | (overflow ? Flag.CF | Flag.OF : 0));
    }

    private void Imul(DecodedOp d, int size)
    {
        long a, b;
        int sh = 64 - size * 8;
        if (d.K2 == OperandKind.Imm)
        {
            ulong s = d.K1 == OperandKind.Reg ? GetReg(d.R1, size) : Read(Ea(d), size);
            a = (long)(s << sh) >> sh;
            b = (long)(d.Imm << sh) >> sh;
        }
        else
        {
            a = (long)(GetReg(d.R0, size) << sh) >> sh;
            ulong s = Src1(d, size);
            b = (long)(s << sh) >> sh;
        }
        long hi = Math.BigMul(a, b, out long lo);
        ulong r = (ulong)lo & Mask(size);
        bool overflow = size == 8 ? hi != (lo >> 63) : ((long)((ulong)lo << sh) >> sh) != lo;
        SetReg(d.R0, size, r);
        SetStatus(Szp(r, size) | (overflow ? Flag.CF | Flag.OF : 0));
    }

    private void Divide(DecodedOp d, int size)
    {
        ulong divisor = Dst0(d, size);
        if (divisor == 0)
        {
            Raise(GuestFault.DE());
        }
        bool signed = d.H == Handler.Idiv;
        switch (size)
        {
            case 1:
                {
                    if (signed)
                    {
                        long n = (short)Gpr[RAX], v = (sbyte)divisor;
                        long q = n / v, rem = n % v;
                        if (q > sbyte.MaxValue || q < sbyte.MinValue) Raise(GuestFault.DE());
                        SetReg(RAX, 2, ((ulong)rem & 0xFF) << 8 | ((ulong)q & 0xFF));
                    }
                    else
                    {
                        ulong n = (ushort)Gpr[RAX];
                        ulong q = n / divisor, rem = n % divisor;
                        if (q > 0xFF) Raise(GuestFault.DE());
                        SetReg(RAX, 2, rem << 8 | q);
                    }
                    break;
                }
            case 2:
                {
                    if (signed)
                    {
                        long n = (int)(((Gpr[RDX] & 0xFFFF) << 16) | (Gpr[RAX] & 0xFFFF)), v = (short)divisor;
                        long q = n / v, rem = n % v;
                        if (q > short.MaxValue || q < short.MinValue) Raise(GuestFault.DE());
                        SetReg(RAX, 2, (ulong)q);
                        SetReg(RDX, 2, (ulong)rem);
                    }
                    else
                    {
                        ulong n = ((Gpr[RDX] & 0xFFFF) << 16) | (Gpr[RAX] & 0xFFFF);
                        ulong q = n / divisor, rem = n % divisor;
                        if (q > 0xFFFF) Raise(GuestFault.DE());
                        SetReg(RAX, 2, q);
                        SetReg(RDX, 2, rem);
                    }
                    break;
                }
            case 4:
                {
                    if (signed)
                    {
                        long n = (long)(((Gpr[RDX] & 0xFFFF_FFFF) << 32) | (Gpr[RAX] & 0xFFFF_FFFF)), v = (int)divisor;
                        if (n == long.MinValue && v == -1) Raise(GuestFault.DE());
                        long q = n / v, rem = n % v;
                        if (q > int.MaxValue || q < int.MinValue) Raise(GuestFault.DE());
                        Gpr[RAX] = (uint)q;
                        Gpr[RDX] = (uint)rem;
                    }
                    else
                    {
                        ulong n = ((Gpr[RDX] & 0xFFFF_FFFF) << 32) | (Gpr[RAX] & 0xFFFF_FFFF);
                        ulong q = n / divisor, rem = n % divisor;
                        if (q > 0xFFFF_FFFF) Raise(GuestFault.DE());
                        Gpr[RAX] = q;
                        Gpr[RDX] = rem;
                    }
                    break;
                }
            default:
                {
                    // The common case (CQO; IDIV or XOR EDX, EDX; DIV): the dividend fits in 64 bits.
                    // 128-bit arithmetic lives in its own methods, which only run (and are only
                    // JIT-compiled: ReadyToRun does not precompile Int128 code) when really needed.
                    ulong lo = Gpr[RAX], hi = Gpr[RDX];
                    if (signed)
                    {
                        long v = (long)divisor;
                        if ((long)hi == (long)lo >> 63)
                        {
                            long n = (long)lo;
                            if (n == long.MinValue && v == -1) Raise(GuestFault.DE());
                            Gpr[RAX] = (ulong)(n / v);
                            Gpr[RDX] = (ulong)(n % v);
                        }
                        else
                        {
                            DivideSigned128(hi, lo, v);
                        }
                    }
                    else if (hi == 0)
                    {
                        Gpr[RAX] = lo / divisor;
                        Gpr[RDX] = lo % divisor;
                    }
                    else
                    {
                        DivideUnsigned128(hi, lo, divisor);
                    }
                    break;
                }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DivideSigned128(ulong hi, ulong lo, long divisor)
    {
        var n = (Int128)new UInt128(hi, lo);
        Int128 v = divisor;
        if (n == Int128.MinValue && v == -1) Raise(GuestFault.DE());
        Int128 q = n / v, rem = n % v;
        if (q > long.MaxValue || q < long.MinValue) Raise(GuestFault.DE());
        Gpr[RAX] = (ulong)(long)q;
        Gpr[RDX] = (ulong)(long)rem;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DivideUnsigned128(ulong hi, ulong lo, ulong divisor)
    {
        if (hi >= divisor) Raise(GuestFault.DE());
        var n = new UInt128(hi, lo);
        UInt128 q = n / divisor, rem = n % divisor;
        Gpr[RAX] = (ulong)q;
        Gpr[RDX] = (ulong)rem;
    }

    private void BitTest(DecodedOp d, int size)
    {
        int bits = size * 8;
        ulong la = 0;
        int bit;
        ulong a;
        if (d.K1 == OperandKind.Imm)
        {
            bit = (int)(d.Imm & (ulong)(bits - 1));
            if (d.K0 == OperandKind.Mem) la = Ea(d);
        }
        else
        {
            ulong off = GetReg(d.R1, size);
            if (d.K0 == OperandKind.Mem)
            {
                int sh = 64 - bits;
                long soff = (long)(off << sh) >> sh;
                la = (Ea(d) + (ulong)((soff >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * size)) & _ipMask;
            }
            bit = (int)(off & (ulong)(bits - 1));
        }
        a = d.K0 == OperandKind.Reg ? GetReg(d.R0, size) : Read(la, size);
        ulong cf = (a >> bit) & 1;
        ulong r = d.H switch
        {
            Handler.Bts => a | (1UL << bit),
            Handler.Btr => a & ~(1UL << bit),
            Handler.Btc => a ^ (1UL << bit),
            _ => a,
        };
        if (d.H != Handler.Bt)
        {
            if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, r); else Write(la, size, r);
        }
        Rflags = (Rflags & ~Flag.CF) | cf;
    }

    private void Enter(DecodedOp d, int size)
    {
        ulong frameSize = d.Imm & 0xFFFF;
        int level = (int)(d.Imm2 & 31);
        Push(GetReg(RBP, size), size);
        ulong frameTemp = Gpr[RSP];
        if (level > 0)
        {
            ulong bp = Gpr[RBP];
            for (int i = 1; i < level; i++)
            {
                bp -= (ulong)size;
                Push(Read((bp + _segBase[SS]) & _ipMask, size), size);
            }
            Push(frameTemp, size);
        }
        SetReg(RBP, size, frameTemp);
        SetSp(Gpr[RSP] - frameSize);
    }

    private void Popf(int size)
    {
        ulong v = PeekStack(0, size);
        ulong writable = Flag.Writable;
        if (Cpl > 0)
        {
            writable &= ~Flag.IOPL;
            if ((ulong)Cpl > ((Rflags >> 12) & 3))
            {
                writable &= ~Flag.IF;
            }
        }
        if (size == 2)
        {
            writable &= 0xFFFF;
        }
        SetSp(Gpr[RSP] + (ulong)size);
        // SDM POPF: RF is cleared (never loaded from the stack)
        Rflags = ((Rflags & ~writable) | (v & writable) | Flag.Reserved1) & ~Flag.RF;
    }

    private void StringOp(DecodedOp d, int size)
    {
        ulong am = Mask(d.Aux);
        long step = (Rflags & Flag.DF) != 0 ? -size : size;
        ulong srcBase = _segBase[d.Seg];
        ulong dstBase = _segBase[ES];
        bool rep = d.Rep != 0;
        ulong allowed = rep ? RepAllowance() : 1;
        ulong done = 0;
        while (true)
        {
            if (rep && (Gpr[RCX] & am) == 0)
            {
                return;
            }
            if (done == allowed)
            {
                RepYield();
                return;
            }
            ulong si = Gpr[RSI] & am, di = Gpr[RDI] & am;
            switch (d.H)
            {
                case Handler.Movs:
                    Write((di + dstBase) & _ipMask, size, Read((si + srcBase) & _ipMask, size));
                    SetIndex(RSI, si + (ulong)step, am);
                    SetIndex(RDI, di + (ulong)step, am);
                    break;
                case Handler.Stos:
                    Write((di + dstBase) & _ipMask, size, GetReg(RAX, size));
                    SetIndex(RDI, di + (ulong)step, am);
                    break;
                case Handler.Lods:
                    SetReg(RAX, size, Read((si + srcBase) & _ipMask, size));
                    SetIndex(RSI, si + (ulong)step, am);
                    break;
                case Handler.Cmps:
                    Alu(Handler.Cmp, Read((si + srcBase) & _ipMask, size), Read((di + dstBase) & _ipMask, size), size);
                    SetIndex(RSI, si + (ulong)step, am);
                    SetIndex(RDI, di + (ulong)step, am);
                    break;
                default: // Scas
                    Alu(Handler.Cmp, GetReg(RAX, size), Read((di + dstBase) & _ipMask, size), size);
                    SetIndex(RDI, di + (ulong)step, am);
                    break;
            }
            if (!rep)
            {
                return;
            }
            SetIndex(RCX, (Gpr[RCX] & am) - 1, am);
            RepIterationDone(ref done);
            if (d.H is Handler.Cmps or Handler.Scas)
            {
                bool zf = (Rflags & Flag.ZF) != 0;
                if (d.Rep == 1 && !zf || d.Rep == 2 && zf)
                {
                    return;
                }
            }
        }
    }

    private void SetIndex(int reg, ulong value, ulong addrMask)
    {
        Gpr[reg] = addrMask == ulong.MaxValue ? value : addrMask == 0xFFFF_FFFF ? (uint)value : (Gpr[reg] & ~addrMask) | (value & addrMask);
    }
}
