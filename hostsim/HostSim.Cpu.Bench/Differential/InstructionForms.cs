using Iced.Intel;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>
/// Every legacy-encoded, 64-bit-mode Iced <see cref="Code"/> whose mnemonic the core implements at user
/// level and whose operands the generator can build: the differential suite's coverage list.
/// </summary>
internal static class InstructionForms
{
    public static readonly HashSet<Mnemonic> Integer =
    [
        Mnemonic.Add, Mnemonic.Or, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Sub, Mnemonic.Xor, Mnemonic.Cmp,
        Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Mov, Mnemonic.Movzx,
        Mnemonic.Movsx, Mnemonic.Movsxd, Mnemonic.Lea, Mnemonic.Xchg, Mnemonic.Cmpxchg, Mnemonic.Xadd, Mnemonic.Bswap,
        Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo, Mnemonic.Shl, Mnemonic.Sal,
        Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shld, Mnemonic.Shrd,
        Mnemonic.Mul, Mnemonic.Imul, Mnemonic.Div, Mnemonic.Idiv, Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc,
        Mnemonic.Bsf, Mnemonic.Bsr, Mnemonic.Tzcnt, Mnemonic.Lzcnt, Mnemonic.Popcnt, Mnemonic.Clc, Mnemonic.Stc,
        Mnemonic.Cmc, Mnemonic.Cld, Mnemonic.Std, Mnemonic.Lahf, Mnemonic.Sahf, Mnemonic.Push, Mnemonic.Pop,
        Mnemonic.Leave, Mnemonic.Enter, Mnemonic.Nop, Mnemonic.Cmpxchg16b, Mnemonic.Cmpxchg8b, Mnemonic.Pause,
        Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Setbe,
        Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl, Mnemonic.Setge,
        Mnemonic.Setle, Mnemonic.Setg, Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove,
        Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp,
        Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg, Mnemonic.Movnti,
    ];

    public static readonly HashSet<Mnemonic> Sse =
    [
        Mnemonic.Movss, Mnemonic.Movsd, Mnemonic.Movaps, Mnemonic.Movapd, Mnemonic.Movdqa, Mnemonic.Movups, Mnemonic.Movupd,
        Mnemonic.Movdqu, Mnemonic.Movd, Mnemonic.Movq, Mnemonic.Movhps, Mnemonic.Movhpd, Mnemonic.Movlps, Mnemonic.Movlpd,
        Mnemonic.Movhlps, Mnemonic.Movlhps, Mnemonic.Movmskps, Mnemonic.Movmskpd, Mnemonic.Pmovmskb,
        Mnemonic.Addss, Mnemonic.Subss, Mnemonic.Mulss, Mnemonic.Divss, Mnemonic.Minss, Mnemonic.Maxss, Mnemonic.Sqrtss,
        Mnemonic.Addsd, Mnemonic.Subsd, Mnemonic.Mulsd, Mnemonic.Divsd, Mnemonic.Minsd, Mnemonic.Maxsd, Mnemonic.Sqrtsd,
        Mnemonic.Addps, Mnemonic.Subps, Mnemonic.Mulps, Mnemonic.Divps, Mnemonic.Minps, Mnemonic.Maxps, Mnemonic.Sqrtps,
        Mnemonic.Addpd, Mnemonic.Subpd, Mnemonic.Mulpd, Mnemonic.Divpd, Mnemonic.Minpd, Mnemonic.Maxpd, Mnemonic.Sqrtpd,
        Mnemonic.Andps, Mnemonic.Andpd, Mnemonic.Pand, Mnemonic.Andnps, Mnemonic.Andnpd, Mnemonic.Pandn, Mnemonic.Orps,
        Mnemonic.Orpd, Mnemonic.Por, Mnemonic.Xorps, Mnemonic.Xorpd, Mnemonic.Pxor,
        Mnemonic.Paddb, Mnemonic.Paddw, Mnemonic.Paddd, Mnemonic.Paddq, Mnemonic.Psubb, Mnemonic.Psubw, Mnemonic.Psubd,
        Mnemonic.Psubq, Mnemonic.Pcmpeqb, Mnemonic.Pcmpeqw, Mnemonic.Pcmpeqd, Mnemonic.Pcmpgtb, Mnemonic.Pcmpgtw,
        Mnemonic.Pcmpgtd, Mnemonic.Pminub, Mnemonic.Pmaxub, Mnemonic.Pminsw, Mnemonic.Pmaxsw, Mnemonic.Pmullw,
        Mnemonic.Pmuludq, Mnemonic.Paddusb, Mnemonic.Psubusb, Mnemonic.Pavgb, Mnemonic.Punpcklbw, Mnemonic.Punpcklwd,
        Mnemonic.Punpckldq, Mnemonic.Punpcklqdq, Mnemonic.Punpckhbw, Mnemonic.Punpckhwd, Mnemonic.Punpckhdq,
        Mnemonic.Punpckhqdq, Mnemonic.Unpcklps, Mnemonic.Unpckhps, Mnemonic.Unpcklpd, Mnemonic.Unpckhpd,
        Mnemonic.Packsswb, Mnemonic.Packuswb, Mnemonic.Packssdw, Mnemonic.Ucomiss, Mnemonic.Ucomisd, Mnemonic.Comiss,
        Mnemonic.Comisd, Mnemonic.Cmpss, Mnemonic.Cmpsd, Mnemonic.Cmpps, Mnemonic.Cmppd, Mnemonic.Cvtsi2ss,
        Mnemonic.Cvtsi2sd, Mnemonic.Cvtss2si, Mnemonic.Cvtsd2si, Mnemonic.Cvttss2si, Mnemonic.Cvttsd2si,
        Mnemonic.Cvtss2sd, Mnemonic.Cvtsd2ss, Mnemonic.Cvtdq2pd, Mnemonic.Cvtdq2ps, Mnemonic.Cvttps2dq,
        Mnemonic.Cvttpd2dq, Mnemonic.Cvtps2pd, Mnemonic.Cvtpd2ps, Mnemonic.Pshufd, Mnemonic.Pshuflw, Mnemonic.Pshufhw,
        Mnemonic.Shufps, Mnemonic.Shufpd, Mnemonic.Psllw, Mnemonic.Pslld, Mnemonic.Psllq, Mnemonic.Psrlw, Mnemonic.Psrld,
        Mnemonic.Psrlq, Mnemonic.Psraw, Mnemonic.Psrad, Mnemonic.Pslldq, Mnemonic.Psrldq,
    ];

    private static readonly HashSet<OpCodeOperandKind> Supported =
    [
        OpCodeOperandKind.r8_or_mem, OpCodeOperandKind.r16_or_mem, OpCodeOperandKind.r32_or_mem, OpCodeOperandKind.r64_or_mem,
        OpCodeOperandKind.r8_reg, OpCodeOperandKind.r8_opcode, OpCodeOperandKind.r16_reg, OpCodeOperandKind.r16_rm,
        OpCodeOperandKind.r16_opcode, OpCodeOperandKind.r32_reg, OpCodeOperandKind.r32_rm, OpCodeOperandKind.r32_opcode,
        OpCodeOperandKind.r64_reg, OpCodeOperandKind.r64_rm, OpCodeOperandKind.r64_opcode, OpCodeOperandKind.mem,
        OpCodeOperandKind.xmm_reg, OpCodeOperandKind.xmm_rm, OpCodeOperandKind.xmm_or_mem,
        OpCodeOperandKind.al, OpCodeOperandKind.cl, OpCodeOperandKind.ax, OpCodeOperandKind.eax, OpCodeOperandKind.rax,
        OpCodeOperandKind.imm8, OpCodeOperandKind.imm8_const_1, OpCodeOperandKind.imm8sex16, OpCodeOperandKind.imm8sex32,
        OpCodeOperandKind.imm8sex64, OpCodeOperandKind.imm16, OpCodeOperandKind.imm32, OpCodeOperandKind.imm32sex64,
        OpCodeOperandKind.imm64,
    ];

    public static readonly Code[] All = Build();

    private static Code[] Build()
    {
        var list = new List<Code>();
        foreach (var code in Enum.GetValues<Code>())
        {
            if (code == Code.INVALID)
            {
                continue;
            }
            var op = code.ToOpCode();
            if (!op.IsInstruction || !op.Mode64 || op.Encoding != EncodingKind.Legacy)
            {
                continue;
            }
            var m = code.Mnemonic();
            if (!Integer.Contains(m) && !Sse.Contains(m))
            {
                continue;
            }
            bool ok = true;
            for (int i = 0; i < op.OpCount; i++)
            {
                ok &= Supported.Contains(op.GetOpKind(i));
            }
            if (!ok)
            {
                continue;
            }
            // string forms of MOVSD/CMPSD share mnemonics with SSE: keep only the SSE ones here
            if ((m == Mnemonic.Movsd || m == Mnemonic.Cmpsd) && op.OpCount == 0)
            {
                continue;
            }
            list.Add(code);
        }
        return list.ToArray();
    }
}
