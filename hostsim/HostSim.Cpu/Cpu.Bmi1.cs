namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The VEX-encoded BMI1 instructions besides ANDN (Intel SDM vol. 2): BEXTR, BLSI, BLSMSK, BLSR,
/// at 32- or 64-bit operand size. CPUID.(EAX=07H,ECX=0):EBX.BMI1 advertises them with TZCNT and
/// ANDN. Flags as the SDM defines them; the undefined AF and PF are left clear.
/// </summary>
public sealed partial class Cpu
{
    private void ExecuteBmi1(DecodedOp d)
    {
        int size = d.Size;
        ulong mask = Mask(size);
        ulong sign = 1UL << (size * 8 - 1);
        // operand 1 is the r/m source for all four
        ulong src = d.K1 == OperandKind.Reg ? GetReg(d.R1, size) : Read(Ea(d), size);
        ulong r;
        ulong f = 0;
        switch (d.H)
        {
            case Handler.Bextr:
                {
                    ulong control = GetReg(d.R2, size);
                    int start = (int)(control & 0xFF), len = (int)((control >> 8) & 0xFF);
                    int bits = size * 8;
                    r = start >= bits ? 0 : src >> start;
                    if (len < bits) r &= (1UL << len) - 1;
                    break;
                }
            case Handler.Blsi:
                r = (0 - src) & src & mask;
                if (src != 0) f |= Flag.CF;
                break;
            case Handler.Blsmsk:
                r = ((src - 1) ^ src) & mask;
                if (src == 0) f |= Flag.CF;
                break;
            default: // Blsr
                r = ((src - 1) & src) & mask;
                if (src == 0) f |= Flag.CF;
                break;
        }
        if (r == 0 && d.H != Handler.Blsmsk) f |= Flag.ZF;
        if ((r & sign) != 0 && d.H != Handler.Bextr) f |= Flag.SF;
        SetReg(d.R0, size, r);
        SetStatus(f);
    }
}
