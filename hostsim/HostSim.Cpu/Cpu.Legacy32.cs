namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Instructions that exist only outside 64-bit mode (Intel SDM vol. 2; Iced decodes them as
/// invalid in 64-bit code, which stays #UD): PUSHA/PUSHAD, POPA/POPAD, the BCD adjusts DAA, DAS,
/// AAA, AAS, AAM (#DE for a zero base), AAD, SALC, BOUND (#BR) and ARPL. Flags the SDM leaves
/// undefined are cleared. PUSHA probes all eight stack slots and POPA reads all eight before
/// anything is committed.
/// </summary>
public sealed partial class Cpu
{
    private void ExecuteLegacy32(DecodedOp d)
    {
        switch (d.H)
        {
            case Handler.Pusha: PushAll(d.Size); return;
            case Handler.Popa: PopAll(d.Size); return;
            case Handler.Daa or Handler.Das: DecimalAdjust(d.H == Handler.Das); return;
            case Handler.Aaa or Handler.Aas: AsciiAdjust(d.H == Handler.Aas); return;
            case Handler.Aam:
                {
                    byte b = (byte)d.Imm;
                    if (b == 0) Raise(GuestFault.DE());
                    byte al = (byte)Gpr[RAX];
                    byte q = (byte)(al / b), r = (byte)(al % b);
                    SetReg(RAX, 2, (ulong)(q << 8 | r));
                    SetStatus(Szp(r, 1));
                    return;
                }
            case Handler.Aad:
                {
                    byte al = (byte)Gpr[RAX], ah = (byte)(Gpr[RAX] >> 8);
                    byte r = (byte)(al + ah * (byte)d.Imm);
                    SetReg(RAX, 2, r);
                    SetStatus(Szp(r, 1));
                    return;
                }
            case Handler.Salc:
                SetReg(RAX, 1, (Rflags & Flag.CF) != 0 ? 0xFFUL : 0);
                return;
            case Handler.Bound:
                {
                    int size = d.Size;
                    ulong la = Ea(d);
                    long lower = SignExtend(Read(la, size), size), upper = SignExtend(Read(la + (ulong)size, size), size);
                    long index = SignExtend(GetReg(d.R0, size), size);
                    if (index < lower || index > upper)
                    {
                        Raise(new GuestFault(5, false, 0, 0));
                    }
                    return;
                }
            default: // Arpl
                {
                    ulong la = d.K0 == OperandKind.Mem ? Ea(d) : 0;
                    ushort dest = (ushort)(d.K0 == OperandKind.Reg ? GetReg(d.R0, 2) : Read(la, 2));
                    ushort src = (ushort)GetReg(d.R1, 2);
                    if ((dest & 3) < (src & 3))
                    {
                        dest = (ushort)((dest & ~3) | (src & 3));
                        if (d.K0 == OperandKind.Reg) SetReg(d.R0, 2, dest); else Write(la, 2, dest);
                        Rflags |= Flag.ZF;
                    }
                    else
                    {
                        Rflags &= ~Flag.ZF;
                    }
                    return;
                }
        }
    }

    private static long SignExtend(ulong v, int size) => size == 2 ? (short)v : (int)v;

    private ulong StackSlot(ulong sp) => ((sp & SpMask) + _segBase[SS]) & _ipMask;

    private void PushAll(int size)
    {
        ulong sp = Gpr[RSP] & SpMask;
        ulong originalSp = sp;
        int[] order = [RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI];
        for (int i = 1; i <= 8; i++)
        {
            ProbeWrite(StackSlot(sp - (ulong)(i * size)), size);
        }
        for (int i = 0; i < 8; i++)
        {
            ulong v = order[i] == RSP ? originalSp : Gpr[order[i]];
            Write(StackSlot(sp - (ulong)((i + 1) * size)), size, v);
        }
        SetSp(sp - (ulong)(8 * size));
    }

    private void PopAll(int size)
    {
        ulong sp = Gpr[RSP] & SpMask;
        int[] order = [RDI, RSI, RBP, RSP, RBX, RDX, RCX, RAX];
        var values = new ulong[8];
        for (int i = 0; i < 8; i++)
        {
            values[i] = Read(StackSlot(sp + (ulong)(i * size)), size);
        }
        for (int i = 0; i < 8; i++)
        {
            if (order[i] != RSP) SetReg((byte)order[i], size, values[i]);   // the stored SP is skipped
        }
        SetSp(sp + (ulong)(8 * size));
    }

    private void DecimalAdjust(bool subtract)
    {
        byte al = (byte)Gpr[RAX], oldAl = al;
        bool oldCf = (Rflags & Flag.CF) != 0, cf = false, af = false;
        if ((al & 0xF) > 9 || (Rflags & Flag.AF) != 0)
        {
            int t = subtract ? al - 6 : al + 6;
            al = (byte)t;
            cf = oldCf || t < 0 || t > 0xFF;
            af = true;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al = (byte)(subtract ? al - 0x60 : al + 0x60);
            cf = true;
        }
        else if (!subtract)
        {
            cf = false;
        }
        SetReg(RAX, 1, al);
        SetStatus(Szp(al, 1) | (cf ? Flag.CF : 0) | (af ? Flag.AF : 0));
    }

    private void AsciiAdjust(bool subtract)
    {
        ulong ax = Gpr[RAX] & 0xFFFF;
        bool adjust = (ax & 0xF) > 9 || (Rflags & Flag.AF) != 0;
        if (adjust)
        {
            ax = subtract ? (ax - 6) & 0xFFFF : (ax + 0x106) & 0xFFFF;
            if (subtract) ax = (ax - 0x100) & 0xFFFF;
        }
        ax &= 0xFF0F;
        SetReg(RAX, 2, ax);
        SetStatus(adjust ? Flag.CF | Flag.AF : 0);
    }
}
