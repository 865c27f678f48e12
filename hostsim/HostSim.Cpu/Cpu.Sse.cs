using System.Runtime.Intrinsics;

namespace HekiGuest.HostSim.Cpu;

/// <summary>SSE/SSE2 semantics (portable, lane by lane where it matters).</summary>
public sealed unsafe partial class Cpu
{
    private Vector128<ulong> ReadXmmOrMem128(DecodedOp d, bool aligned)
    {
        if (d.K1 == OperandKind.Xmm)
        {
            return Xmm[d.R1];
        }
        ulong la = Ea(d);
        if (aligned && (la & 15) != 0)
        {
            Raise(GuestFault.GP());
        }
        ulong lo = Read(la, 8);
        ulong hi = Read(la + 8, 8);
        return Vector128.Create(lo, hi);
    }

    private void WriteMem128(ulong la, Vector128<ulong> v, bool aligned)
    {
        if (aligned && (la & 15) != 0)
        {
            Raise(GuestFault.GP());
        }
        ProbeWrite(la, 16);
        Write(la, 8, v.GetElement(0));
        Write(la + 8, 8, v.GetElement(1));
    }

    private ulong ScalarSrc(DecodedOp d, int size, int operand = 1)
    {
        OperandKind k = operand == 1 ? d.K1 : d.K2;
        byte r = operand == 1 ? d.R1 : d.R2;
        return k switch
        {
            OperandKind.Xmm => size == 4 ? Xmm[r].AsUInt32().GetElement(0) : Xmm[r].GetElement(0),
            OperandKind.Reg => GetReg(r, size),
            _ => Read(Ea(d), size),
        };
    }

    private void SetLow32(int x, uint v) => Xmm[x] = Xmm[x].AsUInt32().WithElement(0, v).AsUInt64();

    private void SetLow64(int x, ulong v) => Xmm[x] = Xmm[x].WithElement(0, v);

    private void ExecuteSse(DecodedOp d)
    {
        if ((Cr0 & 0x4) != 0 || (Cr4 & 0x200) == 0)
        {
            Raise(GuestFault.UD());
        }
        if ((Cr0 & 0x8) != 0)
        {
            Raise(new GuestFault(GuestFault.DeviceNotAvailable, false, 0, 0));
        }
        switch (d.H)
        {
            case Handler.MovScalar32:
                if (d.K0 == OperandKind.Mem) Write(Ea(d), 4, Xmm[d.R1].AsUInt32().GetElement(0));
                else if (d.K1 == OperandKind.Mem) Xmm[d.R0] = Vector128.Create(Read(Ea(d), 4), 0UL);
                else SetLow32(d.R0, Xmm[d.R1].AsUInt32().GetElement(0));
                return;
            case Handler.MovScalar64:
                if (d.K0 == OperandKind.Mem) Write(Ea(d), 8, Xmm[d.R1].GetElement(0));
                else if (d.K1 == OperandKind.Mem) Xmm[d.R0] = Vector128.Create(Read(Ea(d), 8), 0UL);
                else SetLow64(d.R0, Xmm[d.R1].GetElement(0));
                return;
            case Handler.Mov128:
            case Handler.Mov128Aligned:
                if (d.K0 == OperandKind.Mem) WriteMem128(Ea(d), Xmm[d.R1], d.H == Handler.Mov128Aligned);
                else Xmm[d.R0] = ReadXmmOrMem128(d, d.H == Handler.Mov128Aligned);
                return;
            case Handler.MovdToXmm:
                Xmm[d.R0] = Vector128.Create(ScalarSrc(d, 4), 0UL);
                return;
            case Handler.MovqXmm:
                Xmm[d.R0] = Vector128.Create(ScalarSrc(d, 8), 0UL);
                return;
            case Handler.MovdFromXmm:
                {
                    ulong v = Xmm[d.R1].GetElement(0);
                    if (d.Size == 4) v = (uint)v;
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, d.Size, v); else Write(Ea(d), d.Size, v);
                    return;
                }
            case Handler.Movhps:
                if (d.K0 == OperandKind.Mem) Write(Ea(d), 8, Xmm[d.R1].GetElement(1));
                else Xmm[d.R0] = Xmm[d.R0].WithElement(1, Read(Ea(d), 8));
                return;
            case Handler.Movlps:
                if (d.K0 == OperandKind.Mem) Write(Ea(d), 8, Xmm[d.R1].GetElement(0));
                else Xmm[d.R0] = Xmm[d.R0].WithElement(0, Read(Ea(d), 8));
                return;
            case Handler.Movhlps:
                Xmm[d.R0] = Xmm[d.R0].WithElement(0, Xmm[d.R1].GetElement(1));
                return;
            case Handler.Movlhps:
                Xmm[d.R0] = Xmm[d.R0].WithElement(1, Xmm[d.R1].GetElement(0));
                return;
            case Handler.Movmskps:
                {
                    var v = Xmm[d.R1].AsUInt32();
                    uint m = 0;
                    for (int i = 0; i < 4; i++) m |= (v.GetElement(i) >> 31) << i;
                    SetReg(d.R0, d.Size, m);
                    return;
                }
            case Handler.Movmskpd:
                {
                    var v = Xmm[d.R1];
                    SetReg(d.R0, d.Size, (v.GetElement(0) >> 63) | ((v.GetElement(1) >> 63) << 1));
                    return;
                }
            case Handler.Pmovmskb:
                {
                    var v = Xmm[d.R1].AsByte();
                    uint m = 0;
                    for (int i = 0; i < 16; i++) m |= (uint)(v.GetElement(i) >> 7) << i;
                    SetReg(d.R0, d.Size, m);
                    return;
                }
            case Handler.SseScalarBinary32:
                SetLow32(d.R0, SseFloat.Op32((SseOp)d.Aux, Xmm[d.R0].AsUInt32().GetElement(0), (uint)ScalarSrc(d, 4)));
                return;
            case Handler.SseScalarBinary64:
                SetLow64(d.R0, SseFloat.Op64((SseOp)d.Aux, Xmm[d.R0].GetElement(0), ScalarSrc(d, 8)));
                return;
            case Handler.SseBinary:
                Xmm[d.R0] = PackedOp((SseOp)d.Aux, Xmm[d.R0], ReadXmmOrMem128(d, true));
                return;
            case Handler.Ucomis32:
                {
                    float a = BitConverter.UInt32BitsToSingle(Xmm[d.R0].AsUInt32().GetElement(0));
                    float b = BitConverter.UInt32BitsToSingle((uint)ScalarSrc(d, 4));
                    SetStatus(SseFloat.CompareFlags(a, b));
                    return;
                }
            case Handler.Ucomis64:
                {
                    double a = BitConverter.UInt64BitsToDouble(Xmm[d.R0].GetElement(0));
                    double b = BitConverter.UInt64BitsToDouble(ScalarSrc(d, 8));
                    SetStatus(SseFloat.CompareFlags(a, b));
                    return;
                }
            case Handler.Cmpss:
                {
                    float a = BitConverter.UInt32BitsToSingle(Xmm[d.R0].AsUInt32().GetElement(0));
                    float b = BitConverter.UInt32BitsToSingle((uint)ScalarSrc(d, 4));
                    SetLow32(d.R0, SseFloat.Compare(a, b, (int)d.Imm) ? uint.MaxValue : 0);
                    return;
                }
            case Handler.Cmpsd:
                {
                    double a = BitConverter.UInt64BitsToDouble(Xmm[d.R0].GetElement(0));
                    double b = BitConverter.UInt64BitsToDouble(ScalarSrc(d, 8));
                    SetLow64(d.R0, SseFloat.Compare(a, b, (int)d.Imm) ? ulong.MaxValue : 0);
                    return;
                }
            case Handler.Cmpps:
                {
                    var a = Xmm[d.R0].AsUInt32();
                    var b = ReadXmmOrMem128(d, true).AsUInt32();
                    var r = Vector128<uint>.Zero;
                    for (int i = 0; i < 4; i++)
                    {
                        bool t = SseFloat.Compare(BitConverter.UInt32BitsToSingle(a.GetElement(i)), BitConverter.UInt32BitsToSingle(b.GetElement(i)), (int)d.Imm);
                        r = r.WithElement(i, t ? uint.MaxValue : 0);
                    }
                    Xmm[d.R0] = r.AsUInt64();
                    return;
                }
            case Handler.Cmppd:
                {
                    var a = Xmm[d.R0];
                    var b = ReadXmmOrMem128(d, true);
                    var r = Vector128<ulong>.Zero;
                    for (int i = 0; i < 2; i++)
                    {
                        bool t = SseFloat.Compare(BitConverter.UInt64BitsToDouble(a.GetElement(i)), BitConverter.UInt64BitsToDouble(b.GetElement(i)), (int)d.Imm);
                        r = r.WithElement(i, t ? ulong.MaxValue : 0);
                    }
                    Xmm[d.R0] = r;
                    return;
                }
            case Handler.Cvtsi2ss:
                {
                    ulong v = ScalarSrc(d, d.Size1);
                    float f = d.Size1 == 8 ? (float)(long)v : (float)(int)v;
                    SetLow32(d.R0, BitConverter.SingleToUInt32Bits(f));
                    return;
                }
            case Handler.Cvtsi2sd:
                {
                    ulong v = ScalarSrc(d, d.Size1);
                    double f = d.Size1 == 8 ? (double)(long)v : (int)v;
                    SetLow64(d.R0, BitConverter.DoubleToUInt64Bits(f));
                    return;
                }
            case Handler.Cvtss2si:
            case Handler.Cvttss2si:
                {
                    float f = BitConverter.UInt32BitsToSingle((uint)ScalarSrc(d, 4));
                    SetReg(d.R0, d.Size, SseFloat.ToInt(f, d.Size, d.H == Handler.Cvttss2si));
                    return;
                }
            case Handler.Cvtsd2si:
            case Handler.Cvttsd2si:
                {
                    double f = BitConverter.UInt64BitsToDouble(ScalarSrc(d, 8));
                    SetReg(d.R0, d.Size, SseFloat.ToInt(f, d.Size, d.H == Handler.Cvttsd2si));
                    return;
                }
            case Handler.Cvtss2sd:
                SetLow64(d.R0, SseFloat.SingleToDouble((uint)ScalarSrc(d, 4)));
                return;
            case Handler.Cvtsd2ss:
                SetLow32(d.R0, SseFloat.DoubleToSingle(ScalarSrc(d, 8)));
                return;
            case Handler.Cvtdq2pd:
                {
                    ulong v = d.K1 == OperandKind.Xmm ? Xmm[d.R1].GetElement(0) : Read(Ea(d), 8);
                    Xmm[d.R0] = Vector128.Create(BitConverter.DoubleToUInt64Bits((int)(uint)v), BitConverter.DoubleToUInt64Bits((int)(uint)(v >> 32)));
                    return;
                }
            case Handler.Cvtps2pd:
                {
                    ulong v = d.K1 == OperandKind.Xmm ? Xmm[d.R1].GetElement(0) : Read(Ea(d), 8);
                    Xmm[d.R0] = Vector128.Create(SseFloat.SingleToDouble((uint)v), SseFloat.SingleToDouble((uint)(v >> 32)));
                    return;
                }
            case Handler.Cvtdq2ps:
                {
                    var s = ReadXmmOrMem128(d, true).AsInt32();
                    var r = Vector128<uint>.Zero;
                    for (int i = 0; i < 4; i++) r = r.WithElement(i, BitConverter.SingleToUInt32Bits(s.GetElement(i)));
                    Xmm[d.R0] = r.AsUInt64();
                    return;
                }
            case Handler.Cvttps2dq:
                {
                    var s = ReadXmmOrMem128(d, true).AsUInt32();
                    var r = Vector128<uint>.Zero;
                    for (int i = 0; i < 4; i++) r = r.WithElement(i, (uint)SseFloat.ToInt(BitConverter.UInt32BitsToSingle(s.GetElement(i)), 4, true));
                    Xmm[d.R0] = r.AsUInt64();
                    return;
                }
            case Handler.Cvttpd2dq:
                {
                    var s = ReadXmmOrMem128(d, true);
                    ulong lo = SseFloat.ToInt(BitConverter.UInt64BitsToDouble(s.GetElement(0)), 4, true);
                    ulong hi = SseFloat.ToInt(BitConverter.UInt64BitsToDouble(s.GetElement(1)), 4, true);
                    Xmm[d.R0] = Vector128.Create(lo | (hi << 32), 0UL);
                    return;
                }
            case Handler.Cvtpd2ps:
                {
                    var s = ReadXmmOrMem128(d, true);
                    ulong lo = SseFloat.DoubleToSingle(s.GetElement(0));
                    ulong hi = SseFloat.DoubleToSingle(s.GetElement(1));
                    Xmm[d.R0] = Vector128.Create(lo | (hi << 32), 0UL);
                    return;
                }
            case Handler.Pshufd:
                {
                    var s = ReadXmmOrMem128(d, true).AsUInt32();
                    int imm = (int)d.Imm;
                    Xmm[d.R0] = Vector128.Create(s.GetElement(imm & 3), s.GetElement((imm >> 2) & 3), s.GetElement((imm >> 4) & 3), s.GetElement((imm >> 6) & 3)).AsUInt64();
                    return;
                }
            case Handler.Pshuflw:
            case Handler.Pshufhw:
                {
                    var s = ReadXmmOrMem128(d, true).AsUInt16();
                    int imm = (int)d.Imm;
                    int b = d.H == Handler.Pshuflw ? 0 : 4;
                    var r = s;
                    for (int i = 0; i < 4; i++) r = r.WithElement(b + i, s.GetElement(b + ((imm >> (2 * i)) & 3)));
                    Xmm[d.R0] = r.AsUInt64();
                    return;
                }
            case Handler.Shufps:
                {
                    var a = Xmm[d.R0].AsUInt32();
                    var s = ReadXmmOrMem128(d, true).AsUInt32();
                    int imm = (int)d.Imm;
                    Xmm[d.R0] = Vector128.Create(a.GetElement(imm & 3), a.GetElement((imm >> 2) & 3), s.GetElement((imm >> 4) & 3), s.GetElement((imm >> 6) & 3)).AsUInt64();
                    return;
                }
            case Handler.Shufpd:
                {
                    var a = Xmm[d.R0];
                    var s = ReadXmmOrMem128(d, true);
                    int imm = (int)d.Imm;
                    Xmm[d.R0] = Vector128.Create(a.GetElement(imm & 1), s.GetElement((imm >> 1) & 1));
                    return;
                }
            case Handler.PshiftImm:
                {
                    ulong count = d.K1 == OperandKind.Imm ? d.Imm & 0xFF : ReadXmmOrMem128(d, true).GetElement(0);
                    Xmm[d.R0] = PackedShift((SseOp)d.Aux, Xmm[d.R0], count);
                    return;
                }
            default:
                RaiseUnimplemented(d, "SSE form not implemented by the hostsim core");
                return;
        }
    }

    private static Vector128<ulong> PackedOp(SseOp op, Vector128<ulong> a, Vector128<ulong> b)
    {
        switch (op)
        {
            case SseOp.And: return a & b;
            case SseOp.Andn: return ~a & b;
            case SseOp.Or: return a | b;
            case SseOp.Xor: return a ^ b;
            case SseOp.PaddB: return (a.AsByte() + b.AsByte()).AsUInt64();
            case SseOp.PaddW: return (a.AsUInt16() + b.AsUInt16()).AsUInt64();
            case SseOp.PaddD: return (a.AsUInt32() + b.AsUInt32()).AsUInt64();
            case SseOp.PaddQ: return a + b;
            case SseOp.PsubB: return (a.AsByte() - b.AsByte()).AsUInt64();
            case SseOp.PsubW: return (a.AsUInt16() - b.AsUInt16()).AsUInt64();
            case SseOp.PsubD: return (a.AsUInt32() - b.AsUInt32()).AsUInt64();
            case SseOp.PsubQ: return a - b;
            case SseOp.PcmpeqB: return Vector128.Equals(a.AsByte(), b.AsByte()).AsUInt64();
            case SseOp.PcmpeqW: return Vector128.Equals(a.AsUInt16(), b.AsUInt16()).AsUInt64();
            case SseOp.PcmpeqD: return Vector128.Equals(a.AsUInt32(), b.AsUInt32()).AsUInt64();
            case SseOp.PcmpgtB: return Vector128.GreaterThan(a.AsSByte(), b.AsSByte()).AsUInt64();
            case SseOp.PcmpgtW: return Vector128.GreaterThan(a.AsInt16(), b.AsInt16()).AsUInt64();
            case SseOp.PcmpgtD: return Vector128.GreaterThan(a.AsInt32(), b.AsInt32()).AsUInt64();
            case SseOp.PminUB: return Vector128.Min(a.AsByte(), b.AsByte()).AsUInt64();
            case SseOp.PmaxUB: return Vector128.Max(a.AsByte(), b.AsByte()).AsUInt64();
            case SseOp.PminSW: return Vector128.Min(a.AsInt16(), b.AsInt16()).AsUInt64();
            case SseOp.PmaxSW: return Vector128.Max(a.AsInt16(), b.AsInt16()).AsUInt64();
            case SseOp.PmullW: return (a.AsUInt16() * b.AsUInt16()).AsUInt64();
            case SseOp.PmuludQ: return Vector128.Create((a.GetElement(0) & 0xFFFF_FFFF) * (b.GetElement(0) & 0xFFFF_FFFF), (a.GetElement(1) & 0xFFFF_FFFF) * (b.GetElement(1) & 0xFFFF_FFFF));
            case SseOp.PaddusB:
            case SseOp.PsubusB:
            case SseOp.PavgB:
                {
                    var x = a.AsByte();
                    var y = b.AsByte();
                    var r = Vector128<byte>.Zero;
                    for (int i = 0; i < 16; i++)
                    {
                        int p = x.GetElement(i), q = y.GetElement(i);
                        int v = op == SseOp.PaddusB ? Math.Min(255, p + q) : op == SseOp.PsubusB ? Math.Max(0, p - q) : (p + q + 1) >> 1;
                        r = r.WithElement(i, (byte)v);
                    }
                    return r.AsUInt64();
                }
            case SseOp.PunpcklBW: return Interleave(a.AsByte(), b.AsByte(), 0).AsUInt64();
            case SseOp.PunpckhBW: return Interleave(a.AsByte(), b.AsByte(), 8).AsUInt64();
            case SseOp.PunpcklWD: return Interleave(a.AsUInt16(), b.AsUInt16(), 0).AsUInt64();
            case SseOp.PunpckhWD: return Interleave(a.AsUInt16(), b.AsUInt16(), 4).AsUInt64();
            case SseOp.PunpcklDQ:
            case SseOp.UnpcklPs: return Interleave(a.AsUInt32(), b.AsUInt32(), 0).AsUInt64();
            case SseOp.PunpckhDQ:
            case SseOp.UnpckhPs: return Interleave(a.AsUInt32(), b.AsUInt32(), 2).AsUInt64();
            case SseOp.PunpcklQDQ:
            case SseOp.UnpcklPd: return Vector128.Create(a.GetElement(0), b.GetElement(0));
            case SseOp.PunpckhQDQ:
            case SseOp.UnpckhPd: return Vector128.Create(a.GetElement(1), b.GetElement(1));
            case SseOp.PackssWB:
            case SseOp.PackusWB:
                {
                    var r = Vector128<byte>.Zero;
                    for (int i = 0; i < 16; i++)
                    {
                        short v = i < 8 ? a.AsInt16().GetElement(i) : b.AsInt16().GetElement(i - 8);
                        int c = op == SseOp.PackssWB ? Math.Clamp((int)v, -128, 127) : Math.Clamp((int)v, 0, 255);
                        r = r.WithElement(i, (byte)c);
                    }
                    return r.AsUInt64();
                }
            case SseOp.PackssDW:
                {
                    var r = Vector128<short>.Zero;
                    for (int i = 0; i < 8; i++)
                    {
                        int v = i < 4 ? a.AsInt32().GetElement(i) : b.AsInt32().GetElement(i - 4);
                        r = r.WithElement(i, (short)Math.Clamp(v, short.MinValue, short.MaxValue));
                    }
                    return r.AsUInt64();
                }
            default:
                {
                    // packed floating point, lane by lane with x86 NaN rules
                    bool single = op is >= SseOp.AddPs and <= SseOp.SqrtPs;
                    if (single)
                    {
                        var sop = (SseOp)(op - SseOp.AddPs + SseOp.Add);
                        var x = a.AsUInt32();
                        var y = b.AsUInt32();
                        var r = Vector128<uint>.Zero;
                        for (int i = 0; i < 4; i++) r = r.WithElement(i, SseFloat.Op32(sop, x.GetElement(i), y.GetElement(i)));
                        return r.AsUInt64();
                    }
                    else
                    {
                        var sop = (SseOp)(op - SseOp.AddPd + SseOp.Add);
                        return Vector128.Create(SseFloat.Op64(sop, a.GetElement(0), b.GetElement(0)), SseFloat.Op64(sop, a.GetElement(1), b.GetElement(1)));
                    }
                }
        }
    }

    private static Vector128<T> Interleave<T>(Vector128<T> a, Vector128<T> b, int start)
    {
        var r = Vector128<T>.Zero;
        int n = Vector128<T>.Count / 2;
        for (int i = 0; i < n; i++)
        {
            r = r.WithElement(2 * i, a.GetElement(start + i));
            r = r.WithElement(2 * i + 1, b.GetElement(start + i));
        }
        return r;
    }

    private static Vector128<ulong> PackedShift(SseOp op, Vector128<ulong> a, ulong count)
    {
        switch (op)
        {
            case SseOp.PsllW: return count > 15 ? Vector128<ulong>.Zero : Vector128.ShiftLeft(a.AsUInt16(), (int)count).AsUInt64();
            case SseOp.PsllD: return count > 31 ? Vector128<ulong>.Zero : Vector128.ShiftLeft(a.AsUInt32(), (int)count).AsUInt64();
            case SseOp.PsllQ: return count > 63 ? Vector128<ulong>.Zero : Vector128.ShiftLeft(a, (int)count);
            case SseOp.PsrlW: return count > 15 ? Vector128<ulong>.Zero : Vector128.ShiftRightLogical(a.AsUInt16(), (int)count).AsUInt64();
            case SseOp.PsrlD: return count > 31 ? Vector128<ulong>.Zero : Vector128.ShiftRightLogical(a.AsUInt32(), (int)count).AsUInt64();
            case SseOp.PsrlQ: return count > 63 ? Vector128<ulong>.Zero : Vector128.ShiftRightLogical(a, (int)count);
            case SseOp.PsraW: return Vector128.ShiftRightArithmetic(a.AsInt16(), (int)Math.Min(count, 15)).AsUInt64();
            case SseOp.PsraD: return Vector128.ShiftRightArithmetic(a.AsInt32(), (int)Math.Min(count, 31)).AsUInt64();
            case SseOp.Pslldq:
                {
                    int n = (int)Math.Min(count, 16);
                    var s = a.AsByte();
                    var r = Vector128<byte>.Zero;
                    for (int i = n; i < 16; i++) r = r.WithElement(i, s.GetElement(i - n));
                    return r.AsUInt64();
                }
            default: // Psrldq
                {
                    int n = (int)Math.Min(count, 16);
                    var s = a.AsByte();
                    var r = Vector128<byte>.Zero;
                    for (int i = 0; i + n < 16; i++) r = r.WithElement(i, s.GetElement(i + n));
                    return r.AsUInt64();
                }
        }
    }
}
