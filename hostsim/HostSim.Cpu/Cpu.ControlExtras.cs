namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// LMSW and RDPMC (Intel SDM vol. 2). LMSW (CPL 0, else #GP(0)) loads CR0 bits 3:0 (PE, MP, EM,
/// TS) from its 16-bit source and cannot clear PE; it goes through the same CR0 write path as MOV
/// CR0 (checks and the host's control-register hook). RDPMC: the core has no performance counters
/// (no CPUID leaf 0AH), so every counter number is unimplemented and RDPMC raises #GP(0) - also at
/// CPL &gt; 0 with CR4.PCE clear, where that is the architectural fault anyway.
/// </summary>
public sealed partial class Cpu
{
    private void Lmsw(DecodedOp d)
    {
        RequireCpl0();
        ulong src = d.K0 == OperandKind.Reg ? GetReg(d.R0, 2) : Read(Ea(d), 2);
        ulong v = (Cr0 & ~0xEUL) | (src & 0xF) | (Cr0 & 1);
        WriteControlRegister(0, v);
    }

    private void Rdpmc() => Raise(GuestFault.GP());
}
