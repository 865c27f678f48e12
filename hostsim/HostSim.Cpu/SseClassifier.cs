using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>Maps the legacy-encoded SSE/SSE2 mnemonics onto the SSE handlers (VEX/EVEX/MMX forms stay unimplemented).</summary>
internal static class SseClassifier
{
    public static Handler Classify(DecodedOp d, in Instruction insn)
    {
        if (d.K0 == OperandKind.Other || d.K1 == OperandKind.Other || d.K2 == OperandKind.Other || insn.Encoding != EncodingKind.Legacy)
        {
            return Handler.Unimplemented;
        }
        var m = insn.Mnemonic;
        switch (m)
        {
            case Mnemonic.Movss: return Handler.MovScalar32;
            case Mnemonic.Movsd: return Handler.MovScalar64;
            case Mnemonic.Movaps:
            case Mnemonic.Movapd:
            case Mnemonic.Movdqa:
            case Mnemonic.Movntdq:
            case Mnemonic.Movntps:
            case Mnemonic.Movntpd:
                return Handler.Mov128Aligned;
            case Mnemonic.Movups:
            case Mnemonic.Movupd:
            case Mnemonic.Movdqu:
            case Mnemonic.Lddqu:
                return Handler.Mov128;
            case Mnemonic.Movd:
                d.Size = 4;
                return d.K0 == OperandKind.Xmm ? Handler.MovdToXmm : Handler.MovdFromXmm;
            case Mnemonic.Movq:
                d.Size = 8;
                return d.K0 == OperandKind.Xmm ? Handler.MovqXmm : Handler.MovdFromXmm;
            case Mnemonic.Movhps:
            case Mnemonic.Movhpd:
                return Handler.Movhps;
            case Mnemonic.Movlps:
            case Mnemonic.Movlpd:
                return Handler.Movlps;
            case Mnemonic.Movhlps: return Handler.Movhlps;
            case Mnemonic.Movlhps: return Handler.Movlhps;
            case Mnemonic.Movmskps: return Handler.Movmskps;
            case Mnemonic.Movmskpd: return Handler.Movmskpd;
            case Mnemonic.Pmovmskb: return Handler.Pmovmskb;
            case Mnemonic.Addss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Add);
            case Mnemonic.Subss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Sub);
            case Mnemonic.Mulss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Mul);
            case Mnemonic.Divss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Div);
            case Mnemonic.Minss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Min);
            case Mnemonic.Maxss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Max);
            case Mnemonic.Sqrtss: return Scalar(d, Handler.SseScalarBinary32, SseOp.Sqrt);
            case Mnemonic.Addsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Add);
            case Mnemonic.Subsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Sub);
            case Mnemonic.Mulsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Mul);
            case Mnemonic.Divsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Div);
            case Mnemonic.Minsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Min);
            case Mnemonic.Maxsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Max);
            case Mnemonic.Sqrtsd: return Scalar(d, Handler.SseScalarBinary64, SseOp.Sqrt);
            case Mnemonic.Addps: return Packed(d, SseOp.AddPs);
            case Mnemonic.Subps: return Packed(d, SseOp.SubPs);
            case Mnemonic.Mulps: return Packed(d, SseOp.MulPs);
            case Mnemonic.Divps: return Packed(d, SseOp.DivPs);
            case Mnemonic.Minps: return Packed(d, SseOp.MinPs);
            case Mnemonic.Maxps: return Packed(d, SseOp.MaxPs);
            case Mnemonic.Sqrtps: return Packed(d, SseOp.SqrtPs);
            case Mnemonic.Addpd: return Packed(d, SseOp.AddPd);
            case Mnemonic.Subpd: return Packed(d, SseOp.SubPd);
            case Mnemonic.Mulpd: return Packed(d, SseOp.MulPd);
            case Mnemonic.Divpd: return Packed(d, SseOp.DivPd);
            case Mnemonic.Minpd: return Packed(d, SseOp.MinPd);
            case Mnemonic.Maxpd: return Packed(d, SseOp.MaxPd);
            case Mnemonic.Sqrtpd: return Packed(d, SseOp.SqrtPd);
            case Mnemonic.Andps:
            case Mnemonic.Andpd:
            case Mnemonic.Pand:
                return Packed(d, SseOp.And);
            case Mnemonic.Andnps:
            case Mnemonic.Andnpd:
            case Mnemonic.Pandn:
                return Packed(d, SseOp.Andn);
            case Mnemonic.Orps:
            case Mnemonic.Orpd:
            case Mnemonic.Por:
                return Packed(d, SseOp.Or);
            case Mnemonic.Xorps:
            case Mnemonic.Xorpd:
            case Mnemonic.Pxor:
                return Packed(d, SseOp.Xor);
            case Mnemonic.Paddb: return Packed(d, SseOp.PaddB);
            case Mnemonic.Paddw: return Packed(d, SseOp.PaddW);
            case Mnemonic.Paddd: return Packed(d, SseOp.PaddD);
            case Mnemonic.Paddq: return Packed(d, SseOp.PaddQ);
            case Mnemonic.Psubb: return Packed(d, SseOp.PsubB);
            case Mnemonic.Psubw: return Packed(d, SseOp.PsubW);
            case Mnemonic.Psubd: return Packed(d, SseOp.PsubD);
            case Mnemonic.Psubq: return Packed(d, SseOp.PsubQ);
            case Mnemonic.Pcmpeqb: return Packed(d, SseOp.PcmpeqB);
            case Mnemonic.Pcmpeqw: return Packed(d, SseOp.PcmpeqW);
            case Mnemonic.Pcmpeqd: return Packed(d, SseOp.PcmpeqD);
            case Mnemonic.Pcmpgtb: return Packed(d, SseOp.PcmpgtB);
            case Mnemonic.Pcmpgtw: return Packed(d, SseOp.PcmpgtW);
            case Mnemonic.Pcmpgtd: return Packed(d, SseOp.PcmpgtD);
            case Mnemonic.Pminub: return Packed(d, SseOp.PminUB);
            case Mnemonic.Pmaxub: return Packed(d, SseOp.PmaxUB);
            case Mnemonic.Pminsw: return Packed(d, SseOp.PminSW);
            case Mnemonic.Pmaxsw: return Packed(d, SseOp.PmaxSW);
            case Mnemonic.Pmullw: return Packed(d, SseOp.PmullW);
            case Mnemonic.Pmuludq: return Packed(d, SseOp.PmuludQ);
            case Mnemonic.Paddusb: return Packed(d, SseOp.PaddusB);
            case Mnemonic.Psubusb: return Packed(d, SseOp.PsubusB);
            case Mnemonic.Pavgb: return Packed(d, SseOp.PavgB);
            case Mnemonic.Punpcklbw: return Packed(d, SseOp.PunpcklBW);
            case Mnemonic.Punpcklwd: return Packed(d, SseOp.PunpcklWD);
            case Mnemonic.Punpckldq: return Packed(d, SseOp.PunpcklDQ);
            case Mnemonic.Punpcklqdq: return Packed(d, SseOp.PunpcklQDQ);
            case Mnemonic.Punpckhbw: return Packed(d, SseOp.PunpckhBW);
            case Mnemonic.Punpckhwd: return Packed(d, SseOp.PunpckhWD);
            case Mnemonic.Punpckhdq: return Packed(d, SseOp.PunpckhDQ);
            case Mnemonic.Punpckhqdq: return Packed(d, SseOp.PunpckhQDQ);
            case Mnemonic.Unpcklps: return Packed(d, SseOp.UnpcklPs);
            case Mnemonic.Unpckhps: return Packed(d, SseOp.UnpckhPs);
            case Mnemonic.Unpcklpd: return Packed(d, SseOp.UnpcklPd);
            case Mnemonic.Unpckhpd: return Packed(d, SseOp.UnpckhPd);
            case Mnemonic.Packsswb: return Packed(d, SseOp.PackssWB);
            case Mnemonic.Packuswb: return Packed(d, SseOp.PackusWB);
            case Mnemonic.Packssdw: return Packed(d, SseOp.PackssDW);
            case Mnemonic.Ucomiss:
            case Mnemonic.Comiss:
                return Handler.Ucomis32;
            case Mnemonic.Ucomisd:
            case Mnemonic.Comisd:
                return Handler.Ucomis64;
            case Mnemonic.Cmpss: d.Imm &= 7; return Handler.Cmpss;
            case Mnemonic.Cmpsd: d.Imm &= 7; return Handler.Cmpsd;
            case Mnemonic.Cmpps: d.Imm &= 7; return Handler.Cmpps;
            case Mnemonic.Cmppd: d.Imm &= 7; return Handler.Cmppd;
            case Mnemonic.Cvtsi2ss: return Handler.Cvtsi2ss;
            case Mnemonic.Cvtsi2sd: return Handler.Cvtsi2sd;
            case Mnemonic.Cvtss2si: return Handler.Cvtss2si;
            case Mnemonic.Cvtsd2si: return Handler.Cvtsd2si;
            case Mnemonic.Cvttss2si: return Handler.Cvttss2si;
            case Mnemonic.Cvttsd2si: return Handler.Cvttsd2si;
            case Mnemonic.Cvtss2sd: return Handler.Cvtss2sd;
            case Mnemonic.Cvtsd2ss: return Handler.Cvtsd2ss;
            case Mnemonic.Cvtdq2pd: return Handler.Cvtdq2pd;
            case Mnemonic.Cvtdq2ps: return Handler.Cvtdq2ps;
            case Mnemonic.Cvttps2dq: return Handler.Cvttps2dq;
            case Mnemonic.Cvttpd2dq: return Handler.Cvttpd2dq;
            case Mnemonic.Cvtps2pd: return Handler.Cvtps2pd;
            case Mnemonic.Cvtpd2ps: return Handler.Cvtpd2ps;
            case Mnemonic.Pshufd: return Handler.Pshufd;
            case Mnemonic.Pshuflw: return Handler.Pshuflw;
            case Mnemonic.Pshufhw: return Handler.Pshufhw;
            case Mnemonic.Shufps: return Handler.Shufps;
            case Mnemonic.Shufpd: return Handler.Shufpd;
            case Mnemonic.Psllw: return Shift(d, SseOp.PsllW);
            case Mnemonic.Pslld: return Shift(d, SseOp.PsllD);
            case Mnemonic.Psllq: return Shift(d, SseOp.PsllQ);
            case Mnemonic.Psrlw: return Shift(d, SseOp.PsrlW);
            case Mnemonic.Psrld: return Shift(d, SseOp.PsrlD);
            case Mnemonic.Psrlq: return Shift(d, SseOp.PsrlQ);
            case Mnemonic.Psraw: return Shift(d, SseOp.PsraW);
            case Mnemonic.Psrad: return Shift(d, SseOp.PsraD);
            case Mnemonic.Pslldq: return Shift(d, SseOp.Pslldq);
            case Mnemonic.Psrldq: return Shift(d, SseOp.Psrldq);
            default:
                return Handler.Unimplemented;
        }
    }

    private static Handler Scalar(DecodedOp d, Handler h, SseOp op)
    {
        d.Aux = (byte)op;
        return h;
    }

    private static Handler Packed(DecodedOp d, SseOp op)
    {
        d.Aux = (byte)op;
        return Handler.SseBinary;
    }

    private static Handler Shift(DecodedOp d, SseOp op)
    {
        d.Aux = (byte)op;
        return Handler.PshiftImm;
    }
}
