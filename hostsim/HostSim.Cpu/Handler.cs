namespace HekiGuest.HostSim.Cpu;

/// <summary>Semantic routine a decoded instruction dispatches to (one switch case each).</summary>
internal enum Handler : ushort
{
    Unimplemented = 0,
    Invalid,
    Nop,
    // integer data movement
    Mov, MovSreg, MovFromSreg, Movzx, Movsx, Lea, Xchg, Cmpxchg, Cmpxchg16b, Cmpxchg8b, Xadd, Bswap,
    Cbw, Cwd, Lahf, Sahf, Cmovcc, Setcc,
    // ALU
    Add, Or, Adc, Sbb, And, Sub, Xor, Cmp, Test, Inc, Dec, Neg, Not,
    Shl, Shr, Sar, Rol, Ror, Rcl, Rcr, Shld, Shrd,
    Mul, Imul1, Imul2, Div, Idiv,
    Bt, Bts, Btr, Btc, Bsf, Bsr, Tzcnt, Lzcnt, Popcnt,
    Andn, Clc, Stc, Cmc, Cld, Std,
    // control flow and stack
    Jmp, JmpIndirect, Jcc, Jrcxz, Loop, Loope, Loopne, Call, CallIndirect, Ret, RetFar, JmpFar, JmpFarIndirect, CallFar,
    Push, Pop, PushSreg, PopSreg, Pushf, Popf, Leave, Enter,
    // strings
    Movs, Stos, Lods, Cmps, Scas,
    // system
    In, Out, Cli, Sti, Stac, Clac, Hlt, Lgdt, Lidt, Sgdt, Sidt, Ltr, Lldt, Str, Sldt, MovToCr, MovFromCr, MovToDr, MovFromDr,
    Rdmsr, Wrmsr, Rdtsc, Rdtscp, Cpuid, Iret, Int, Int3, Into, Int1, Ud2, Invlpg, Xsetbv, Xgetbv,
    Fninit, Fnstcw, Fldcw, Fxsave, Fxrstor, Ldmxcsr, Stmxcsr, Swapgs, Syscall, Sysret, Vmcall, Vmmcall, Wbinvd, Clts,
    Lar, Lsl, Verr, Verw, Rdfsbase, Wrfsbase, Sysenter, Sysexit, Invpcid,
    // x87 control and state management (Cpu.X87Environment.cs), XSAVE family (Cpu.Xsave.cs), SMSW
    Fwait, Fnstenv, Fldenv, Fnsave, Frstor, Fnstsw, Fnclex, X87Arithmetic, Xsave, Xsaveopt, Xsavec, Xrstor, Smsw,
    // BMI1 besides ANDN (Cpu.Bmi1.cs)
    Bextr, Blsi, Blsmsk, Blsr,
    // base ISA additions: far-pointer loads, XLAT, LMSW, RDPMC, string I/O (Cpu.SegmentLoads.cs, Cpu.Xlat.cs, Cpu.ControlExtras.cs, Cpu.StringIo.cs)
    LoadFarPointer, Xlat, Lmsw, Rdpmc, Ins, Outs,
    // an instruction longer than 15 bytes: #GP(0), not #UD (SDM vol. 3, 2.3.11 / vol. 2, 2.3.11)
    TooLong,
    // outside 64-bit mode only (Cpu.Legacy32.cs)
    Pusha, Popa, Daa, Das, Aaa, Aas, Aam, Aad, Salc, Bound, Arpl,
    // SSE / SSE2
    MovScalar32, MovScalar64, Mov128, Mov128Aligned, MovdToXmm, MovdFromXmm, MovqXmm, MovqStore, Movhps, Movlps, Movhlps, Movlhps,
    Movmskps, Movmskpd, Pmovmskb,
    SseBinary, SseScalarBinary32, SseScalarBinary64, SseUnary, Ucomis32, Ucomis64, Cmpss, Cmpsd, Cmpps, Cmppd,
    Cvtsi2ss, Cvtsi2sd, Cvtss2si, Cvtsd2si, Cvttss2si, Cvttsd2si, Cvtss2sd, Cvtsd2ss, Cvtdq2pd, Cvtdq2ps, Cvttps2dq, Cvttpd2dq, Cvtps2pd, Cvtpd2ps,
    Pshufd, Pshuflw, Pshufhw, Shufps, Shufpd, PshiftImm, PshiftDq,
    Ldmxcsr2,
}

/// <summary>Operand kind in a decoded instruction.</summary>
internal enum OperandKind : byte
{
    None = 0,
    Reg,
    Mem,
    Imm,
    Xmm,
    Other,
}
