namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// CALL FAR to a code segment at the same privilege level (Intel SDM vol. 2, CALL, "far call to
/// the same privilege level"): direct ptr16:16/ptr16:32 (not in 64-bit mode) and indirect
/// m16:16/m16:32/m16:64. The target must be a present code segment; non-conforming: DPL = CPL and
/// RPL &lt;= CPL; conforming: DPL &lt;= CPL; else #GP(selector) (#NP if not present). The return
/// CS and (E/R)IP are pushed at the operand size; the stack slots are probed before CS changes, so
/// a fault leaves everything as it was. Call gates (and so calls to another privilege level) are
/// not modelled: a call through one is reported as unimplemented.
/// </summary>
public sealed partial class Cpu
{
    private void CallFar(DecodedOp d)
    {
        int size = d.Size;
        ulong offset;
        ushort sel;
        if (d.K0 == OperandKind.Mem)
        {
            ulong la = Ea(d);
            offset = Read(la, size);
            sel = (ushort)Read(la + (ulong)size, 2);
        }
        else
        {
            offset = d.Imm;
            sel = (ushort)d.Imm2;
        }
        if (TryFarTransferToTask(sel, call: true))
        {
            return;   // a TSS or task gate: a nested task switch, nothing pushed (Cpu.TaskSwitch.cs)
        }
        bool paragraphs = ParagraphSegments;
        if (paragraphs)
        {
            // real and virtual-8086 mode: no descriptor, CS = selector x 16 (LoadCodeSegment)
        }
        else if ((sel & ~3) == 0)
        {
            Raise(GuestFault.GP());
        }
        ulong desc = paragraphs ? 0x0000_9B00_0000_0000UL | ((ulong)Cpl << 45) : ReadDescriptor(sel);
        bool codeOrData = ((desc >> 44) & 1) != 0;
        int type = (int)(desc >> 40) & 0xF;
        if (!codeOrData && (type == 0xC || type == 0x4))
        {
            RaiseUnimplemented(d, "CALL FAR through a call gate is not implemented by the hostsim core");
        }
        bool isCode = codeOrData && (type & 8) != 0;
        bool conforming = (type & 4) != 0;
        int dpl = (int)(desc >> 45) & 3;
        if (!paragraphs && (!isCode || (conforming ? dpl > Cpl : dpl != Cpl || (sel & 3) > Cpl)))
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }

        ulong sp = Gpr[RSP];
        ulong mask = Bitness == 64 ? ulong.MaxValue : SpMask;
        ulong ssBase = _segBase[SS];
        ulong csSlot = (((sp - (ulong)size) & mask) + ssBase) & _ipMask;
        ulong ipSlot = (((sp - (ulong)(2 * size)) & mask) + ssBase) & _ipMask;
        ProbeWrite(csSlot, size);
        ProbeWrite(ipSlot, size);
        ulong returnCs = Segments[CS].Selector, returnIp = Rip;
        int oldBitness = Bitness;
        LoadCodeSegment(sel, size == 2 ? offset & 0xFFFF : offset);
        Write(csSlot, size, returnCs);
        Write(ipSlot, size, returnIp);
        if (oldBitness == 64)
        {
            Gpr[RSP] = sp - (ulong)(2 * size);
        }
        else
        {
            Gpr[RSP] = (Gpr[RSP] & ~mask) | ((sp - (ulong)(2 * size)) & mask);
        }
    }
}
