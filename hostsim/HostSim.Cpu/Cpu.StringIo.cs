namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// INS and OUTS (Intel SDM vol. 2): port DX to ES:(E/R)DI, or DS:(E/R)SI (segment override
/// allowed) to port DX, 1, 2 or 4 bytes, the index stepping by DF, with REP counting (E/R)CX at
/// the address size. I/O permission as for IN/OUT
/// (<see cref="RequireIoPermission"/>: IOPL, or the TSS I/O bitmap in v86 and at CPL &gt; IOPL). For INS the destination is probed before the port is read, so a faulting store does
/// not consume port data. REP forms are interruptible like the other string instructions
/// (Cpu.RepBudget.cs).
/// </summary>
public sealed partial class Cpu
{
    private void StringIo(DecodedOp d)
    {
        int size = d.Size;
        RequireIoPermission((ushort)Gpr[RDX], size);
        ulong am = Mask(d.Aux);
        long step = (Rflags & Flag.DF) != 0 ? -size : size;
        bool rep = d.Rep != 0;
        ushort port = (ushort)Gpr[RDX];
        ulong allowed = rep ? RepAllowance() : 1;
        ulong done = 0;
        while (!rep || (Gpr[RCX] & am) != 0)
        {
            if (done == allowed)
            {
                RepYield();
                return;
            }
            if (d.H == Handler.Ins)
            {
                ulong di = Gpr[RDI] & am;
                ulong la = (di + _segBase[ES]) & _ipMask;
                ProbeWrite(la, size);
                uint v = PortIo?.In(port, size) ?? uint.MaxValue;
                Write(la, size, v & (uint)Mask(size));
                SetIndex(RDI, di + (ulong)step, am);
            }
            else
            {
                ulong si = Gpr[RSI] & am;
                uint v = (uint)Read((si + _segBase[d.Seg]) & _ipMask, size);
                PortIo?.Out(port, size, v);
                SetIndex(RSI, si + (ulong)step, am);
            }
            if (_dbgArmed) CheckIoBreakpoints(port, size);
            if (!rep)
            {
                return;
            }
            SetIndex(RCX, (Gpr[RCX] & am) - 1, am);
            RepIterationDone(ref done);
        }
    }
}
