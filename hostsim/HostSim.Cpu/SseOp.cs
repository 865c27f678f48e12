namespace HekiGuest.HostSim.Cpu;

/// <summary>Sub-operation of the generic SSE handlers (stored in <see cref="DecodedOp.Aux"/>).</summary>
internal enum SseOp : byte
{
    None = 0,
    Add, Sub, Mul, Div, Min, Max, Sqrt,
    AddPs, SubPs, MulPs, DivPs, MinPs, MaxPs, SqrtPs,
    AddPd, SubPd, MulPd, DivPd, MinPd, MaxPd, SqrtPd,
    And, Andn, Or, Xor,
    PaddB, PaddW, PaddD, PaddQ, PsubB, PsubW, PsubD, PsubQ,
    PcmpeqB, PcmpeqW, PcmpeqD, PcmpgtB, PcmpgtW, PcmpgtD,
    PminUB, PmaxUB, PminSW, PmaxSW, PmullW, PmuludQ, PaddusB, PsubusB, PavgB,
    PunpcklBW, PunpcklWD, PunpcklDQ, PunpcklQDQ, PunpckhBW, PunpckhWD, PunpckhDQ, PunpckhQDQ,
    UnpcklPs, UnpckhPs, UnpcklPd, UnpckhPd,
    PackssWB, PackusWB, PackssDW,
    // shifts by immediate / by xmm
    PsllW, PsllD, PsllQ, PsrlW, PsrlD, PsrlQ, PsraW, PsraD, Pslldq, Psrldq,
}
