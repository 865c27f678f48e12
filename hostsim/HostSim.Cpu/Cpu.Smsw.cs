namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// SMSW (Intel SDM vol. 2): stores the machine status word, CR0. A memory destination takes 16
/// bits whatever the operand size; a 16-bit register gets CR0[15:0] (its other bits kept), a
/// 32-bit register CR0[31:0] (zero-extended in 64-bit mode), a 64-bit register all of CR0.
/// #GP(0) at CPL &gt; 0 when CR4.UMIP = 1; otherwise not privileged.
/// </summary>
public sealed partial class Cpu
{
    private void Smsw(DecodedOp d)
    {
        if (Cpl > 0 && (Cr4 & (1UL << 11)) != 0)
        {
            Raise(GuestFault.GP());
        }
        if (d.K0 == OperandKind.Reg)
        {
            SetReg(d.R0, d.Size, Cr0);
        }
        else
        {
            Write(Ea(d), 2, Cr0 & 0xFFFF);
        }
    }
}
