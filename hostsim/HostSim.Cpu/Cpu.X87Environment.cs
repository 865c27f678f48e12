namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The x87 environment and state images (Intel SDM vol. 1, 8.1.10, figures 8-9 and 8-11; vol. 2
/// FSTENV/FNSTENV, FLDENV, FSAVE/FNSAVE, FRSTOR): the protected-mode layouts, 28 bytes with a
/// 32-bit operand size (also in 64-bit mode) and 14 bytes with a 16-bit one; the state image adds
/// ST(0)-ST(7), 10 bytes each. Reserved halves of the 32-bit layout are stored as 0xFFFF (what
/// the processors this was checked against write) and ignored on load. Also FNSTSW, FNCLEX and
/// WAIT; every other x87 instruction raises #NM under CR0.EM or CR0.TS, else #UD (the core has
/// no x87 arithmetic). The core has no real mode, so the real-mode layouts do not arise.
/// </summary>
public sealed partial class Cpu
{
    private const ulong FpuReservedHigh = 0xFFFF_0000;

    /// <summary>Dispatches the x87 control and state-management instructions.</summary>
    private void ExecuteX87Control(DecodedOp d)
    {
        switch (d.H)
        {
            case Handler.Fwait:
                FpuWait();
                return;
            case Handler.Fnstenv:
                CheckFpuAvailable();
                if (d.Aux != 0) FpuWait();
                StoreFpuEnvironment(Ea(d), d.Size == 14, image: false);
                FpuControl |= 0x3F;                       // FSTENV masks every x87 exception afterwards
                return;
            case Handler.Fldenv:
                CheckFpuAvailable();
                LoadFpuEnvironment(Ea(d), d.Size == 14, image: false);
                return;
            case Handler.Fnsave:
                CheckFpuAvailable();
                if (d.Aux != 0) FpuWait();
                StoreFpuEnvironment(Ea(d), d.Size == 94, image: true);
                FpuInitialise();                          // FSAVE initialises the FPU afterwards, like FNINIT
                return;
            case Handler.Frstor:
                CheckFpuAvailable();
                LoadFpuEnvironment(Ea(d), d.Size == 94, image: true);
                return;
            case Handler.Fnstsw:
                CheckFpuAvailable();
                if (d.Aux != 0) FpuWait();
                if (d.K0 == OperandKind.Reg) SetReg(RAX, 2, FpuStatus); else Write(Ea(d), 2, FpuStatus);
                return;
            case Handler.Fnclex:
                CheckFpuAvailable();
                if (d.Aux != 0) FpuWait();
                FpuStatus &= 0x7F00;                      // PE UE OE ZE DE IE SF ES and B clear; C0-C3 and TOP stay
                return;
            default:
                // x87 arithmetic is not implemented; CR0.EM = 1 (or TS = 1) still gives #NM first,
                // as on a CPU, so a guest that emulates the FPU through #NM works
                CheckFpuAvailable();
                RaiseUnimplemented(d, "x87 arithmetic is not implemented by the hostsim core");
                return;
        }
    }

    private void StoreFpuEnvironment(ulong la, bool size16, bool image)
    {
        int envSize = size16 ? 14 : 28;
        ProbeWrite(la, envSize + (image ? 80 : 0));
        ushort tags = FpuFullTagWord();
        if (size16)
        {
            Write(la, 2, FpuControl);
            Write(la + 2, 2, FpuStatus);
            Write(la + 4, 2, tags);
            Write(la + 6, 2, (ushort)FpuInstructionPointer);
            Write(la + 8, 2, 0);                           // FPU CS (deprecated)
            Write(la + 10, 2, (ushort)FpuDataPointer);
            Write(la + 12, 2, 0);                          // FPU DS (deprecated)
        }
        else
        {
            Write(la, 4, FpuReservedHigh | FpuControl);
            Write(la + 4, 4, FpuReservedHigh | FpuStatus);
            Write(la + 8, 4, FpuReservedHigh | tags);
            Write(la + 12, 4, (uint)FpuInstructionPointer);
            Write(la + 16, 4, (ulong)(FpuOpcode & 0x7FF) << 16);     // FPU CS deprecated: 0
            Write(la + 20, 4, (uint)FpuDataPointer);
            Write(la + 24, 4, FpuReservedHigh);                     // FPU DS deprecated: 0
        }
        if (image)
        {
            for (int i = 0; i < 8; i++)
            {
                WriteFpuRegister(la + (ulong)(envSize + 10 * i), i);
            }
        }
    }

    private void LoadFpuEnvironment(ulong la, bool size16, bool image)
    {
        int envSize = size16 ? 14 : 28;
        ushort fcw, fsw, ftw, fop = FpuOpcode;
        ulong fip, fdp;
        if (size16)
        {
            fcw = (ushort)Read(la, 2);
            fsw = (ushort)Read(la + 2, 2);
            ftw = (ushort)Read(la + 4, 2);
            fip = Read(la + 6, 2);
            fdp = Read(la + 10, 2);
        }
        else
        {
            fcw = (ushort)Read(la, 2);
            fsw = (ushort)Read(la + 4, 2);
            ftw = (ushort)Read(la + 8, 2);
            fip = Read(la + 12, 4);
            fop = (ushort)((Read(la + 16, 4) >> 16) & 0x7FF);
            fdp = Read(la + 20, 4);
        }
        var sig = new ulong[8];
        var se = new ushort[8];
        if (image)
        {
            for (int i = 0; i < 8; i++)
            {
                ulong at = la + (ulong)(envSize + 10 * i);
                sig[i] = Read(at, 8);
                se[i] = (ushort)Read(at + 8, 2);
            }
        }
        // every read done: commit
        FpuControl = fcw;
        FpuStatus = FpuStatusWithSummary(fsw, fcw);
        FpuTagAbridged = AbridgeTagWord(ftw);
        FpuInstructionPointer = fip;
        FpuOpcode = fop;
        FpuDataPointer = fdp;
        if (image)
        {
            int top = FpuTop;
            for (int i = 0; i < 8; i++)
            {
                FpuSignificand[(top + i) & 7] = sig[i];
                FpuSignExponent[(top + i) & 7] = se[i];
            }
        }
    }
}
