namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// LAR, LSL, VERR, VERW (Intel SDM vol. 2): look a selector up in the GDT/LDT without loading it
/// and report through ZF. ZF = 0, nothing else changed, for a null selector, a selector beyond
/// the table limit (or in an LDT when LDTR is null), a descriptor type the instruction does not
/// accept, or a privilege mismatch (DPL &lt; CPL or DPL &lt; RPL, except for conforming code
/// segments). Accepted system types: LAR 64-bit mode LDT, 64-bit TSS (available, busy), 64-bit
/// call gate; otherwise also the 16-bit TSS/call gate, task gate and 32-bit TSS/call gate. LSL:
/// LDT and TSSs only. VERR: data, or readable code; VERW: writable data. The descriptor read is
/// an implicit supervisor access (a paging fault there is a fault of the instruction).
/// </summary>
public sealed partial class Cpu
{
    private void DescriptorQuery(DecodedOp d)
    {
        bool isVerify = d.H is Handler.Verr or Handler.Verw;
        ushort sel = (ushort)(isVerify
            ? (d.K0 == OperandKind.Reg ? GetReg(d.R0, 2) : Read(Ea(d), 2))
            : (d.K1 == OperandKind.Reg ? GetReg(d.R1, 2) : Read(Ea(d), 2)));
        if (!TryPeekDescriptor(sel, out ulong desc))
        {
            Rflags &= ~Flag.ZF;
            return;
        }
        int type = (int)(desc >> 40) & 0xF;
        bool codeOrData = ((desc >> 44) & 1) != 0;
        int dpl = (int)(desc >> 45) & 3;
        bool isCode = codeOrData && (type & 8) != 0;
        bool conforming = isCode && (type & 4) != 0;
        bool typeOk = d.H switch
        {
            Handler.Lar => codeOrData || (LongModeActive ? type is 2 or 9 or 0xB or 0xC : type is 1 or 2 or 3 or 4 or 5 or 9 or 0xB or 0xC),
            Handler.Lsl => codeOrData || (LongModeActive ? type is 2 or 9 or 0xB : type is 1 or 2 or 3 or 9 or 0xB),
            Handler.Verr => codeOrData && (!isCode || (type & 2) != 0),
            _ => codeOrData && !isCode && (type & 2) != 0,
        };
        bool privilegeOk = conforming && d.H != Handler.Verw || (dpl >= Cpl && dpl >= (sel & 3));
        if (!typeOk || !privilegeOk)
        {
            Rflags &= ~Flag.ZF;
            return;
        }
        Rflags |= Flag.ZF;
        if (d.H == Handler.Lar)
        {
            SetReg(d.R0, d.Size, (desc >> 32) & 0x00F0_FF00);
        }
        else if (d.H == Handler.Lsl)
        {
            ulong limit = (desc & 0xFFFF) | ((desc >> 32) & 0xF_0000);
            if (((desc >> 55) & 1) != 0) limit = (limit << 12) | 0xFFF;
            SetReg(d.R0, d.Size, limit);
        }
    }

    /// <summary>The 8-byte descriptor for <paramref name="sel"/>, or false where LAR/LSL/VERR/VERW
    /// report ZF = 0 instead of faulting (null selector, beyond the limit, no LDT).</summary>
    private bool TryPeekDescriptor(ushort sel, out ulong desc)
    {
        desc = 0;
        if ((sel & ~3) == 0)
        {
            return false;
        }
        bool ldt = (sel & 4) != 0;
        if (ldt && (Ldtr.Selector & ~3) == 0)
        {
            return false;
        }
        ulong tableBase = ldt ? Ldtr.Base : Gdtr.Base;
        ulong limit = ldt ? Ldtr.Limit : Gdtr.Limit;
        ulong off = (ulong)(sel & ~7);
        if (off + 7 > limit)
        {
            return false;
        }
        desc = ReadSystem(tableBase + off, 8);
        return true;
    }
}
