using System.Runtime.Intrinsics;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The 512-byte FXSAVE image, which is also the legacy region of an XSAVE area (Intel SDM vol. 1,
/// 10.5.1 and 13.4.1; vol. 2 FXSAVE tables 3-43, 3-46, 3-47): the x87 part (bytes 0-23 and
/// 32-159, with the 32-bit pointer layout, or the 64-bit one under REX.W), MXCSR and MXCSR_MASK
/// (bytes 24-31) and XMM0-7 (XMM0-15 in 64-bit mode) from byte 160. FXSAVE and FXRSTOR use it
/// whole; XSAVE and XRSTOR per state component.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>MXCSR bits this core accepts (FLUSH-TO-ZERO, rounding, masks, DAZ, flags).</summary>
    public const uint MxcsrMask = 0xFFFF;

    private int XmmCount => Bitness == 64 ? 16 : 8;

    private void WriteLegacyX87(ulong la, bool rexW)
    {
        Write(la, 2, FpuControl);
        Write(la + 2, 2, FpuStatus);
        Write(la + 4, 1, FpuTagAbridged);
        Write(la + 5, 1, 0);
        Write(la + 6, 2, FpuOpcode & 0x7FFu);
        if (rexW)
        {
            Write(la + 8, 8, FpuInstructionPointer);
            Write(la + 16, 8, FpuDataPointer);
        }
        else
        {
            Write(la + 8, 4, (uint)FpuInstructionPointer);
            Write(la + 12, 4, 0);                               // FPU CS deprecated
            Write(la + 16, 4, (uint)FpuDataPointer);
            Write(la + 20, 4, 0);                               // FPU DS deprecated
        }
        for (int i = 0; i < 8; i++)
        {
            ulong at = la + 32 + (ulong)(16 * i);
            WriteFpuRegister(at, i);
            Write(at + 10, 2, 0);
            Write(at + 12, 4, 0);
        }
    }

    private void WriteLegacyMxcsr(ulong la)
    {
        Write(la + 24, 4, Mxcsr);
        Write(la + 28, 4, MxcsrMask);
    }

    private void WriteLegacyXmm(ulong la)
    {
        for (int i = 0; i < XmmCount; i++)
        {
            Write(la + 160 + (ulong)(16 * i), 8, Xmm[i].GetElement(0));
            Write(la + 168 + (ulong)(16 * i), 8, Xmm[i].GetElement(1));
        }
    }

    /// <summary>The x87 part of a legacy image, read (may fault) before anything is committed.</summary>
    private sealed class X87Image
    {
        public ushort Fcw, Fsw, Fop;
        public byte Ftw;
        public ulong Fip, Fdp;
        public readonly ulong[] Significand = new ulong[8];
        public readonly ushort[] SignExponent = new ushort[8];
    }

    private X87Image ReadLegacyX87(ulong la, bool rexW)
    {
        var x = new X87Image
        {
            Fcw = (ushort)Read(la, 2),
            Fsw = (ushort)Read(la + 2, 2),
            Ftw = (byte)Read(la + 4, 1),
            Fop = (ushort)(Read(la + 6, 2) & 0x7FF),
        };
        if (rexW)
        {
            x.Fip = Read(la + 8, 8);
            x.Fdp = Read(la + 16, 8);
        }
        else
        {
            x.Fip = Read(la + 8, 4);
            x.Fdp = Read(la + 16, 4);
        }
        for (int i = 0; i < 8; i++)
        {
            ulong at = la + 32 + (ulong)(16 * i);
            x.Significand[i] = Read(at, 8);
            x.SignExponent[i] = (ushort)Read(at + 8, 2);
        }
        return x;
    }

    private void CommitX87(X87Image x)
    {
        FpuControl = x.Fcw;
        FpuStatus = FpuStatusWithSummary(x.Fsw, x.Fcw);
        FpuTagAbridged = x.Ftw;
        FpuOpcode = x.Fop;
        FpuInstructionPointer = x.Fip;
        FpuDataPointer = x.Fdp;
        int top = FpuTop;
        for (int i = 0; i < 8; i++)
        {
            FpuSignificand[(top + i) & 7] = x.Significand[i];
            FpuSignExponent[(top + i) & 7] = x.SignExponent[i];
        }
    }

    /// <summary>MXCSR from a legacy image; #GP(0) for a bit outside <see cref="MxcsrMask"/>.</summary>
    private uint ReadLegacyMxcsr(ulong la)
    {
        uint mx = (uint)Read(la + 24, 4);
        if ((mx & ~MxcsrMask) != 0) Raise(GuestFault.GP());
        return mx;
    }

    private Vector128<ulong>[] ReadLegacyXmm(ulong la)
    {
        var regs = new Vector128<ulong>[XmmCount];
        for (int i = 0; i < regs.Length; i++)
        {
            regs[i] = Vector128.Create(Read(la + 160 + (ulong)(16 * i), 8), Read(la + 168 + (ulong)(16 * i), 8));
        }
        return regs;
    }

    /// <summary>FXSAVE/FXSAVE64: #NM when CR0.EM or CR0.TS, #GP(0) unless 16-byte aligned.</summary>
    private void FxSave(ulong la, bool rexW)
    {
        CheckFpuAvailable();
        if ((la & 15) != 0) Raise(GuestFault.GP());
        ProbeWrite(la, 512);
        WriteLegacyX87(la, rexW);
        WriteLegacyMxcsr(la);
        WriteLegacyXmm(la);
    }

    /// <summary>FXRSTOR/FXRSTOR64: as FXSAVE, and #GP(0) for reserved MXCSR bits; nothing
    /// changes unless the whole image could be read.</summary>
    private void FxRestore(ulong la, bool rexW)
    {
        CheckFpuAvailable();
        if ((la & 15) != 0) Raise(GuestFault.GP());
        uint mx = ReadLegacyMxcsr(la);
        var x87 = ReadLegacyX87(la, rexW);
        var regs = ReadLegacyXmm(la);
        CommitX87(x87);
        Mxcsr = mx;
        regs.CopyTo(Xmm, 0);
    }
}
