using System.Runtime.Intrinsics;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// XSAVE, XSAVEOPT, XSAVEC and XRSTOR (Intel SDM vol. 1, 13.7 - 13.10; vol. 2) for the state
/// components this core has: 0 (x87) and 1 (SSE: XMM registers and MXCSR), both in the legacy
/// region, followed by the 64-byte XSAVE header at byte 512 (XSTATE_BV, XCOMP_BV). The area is
/// 576 bytes in both formats (no component of the extended region exists).
/// <para>Faults, in order: #UD when CR4.OSXSAVE = 0; #NM when CR0.TS = 1 (CR0.EM does not
/// matter); #GP(0) when the area is not 64-byte aligned; XRSTOR #GP(0) for a header the SDM
/// rejects and for reserved MXCSR bits; then any memory fault. Nothing is committed unless every
/// read succeeded, and the saves probe the whole area first.</para>
/// <para>XINUSE (13.6) is exact: a component is in use when it differs from its initial
/// configuration (x87: FCW 037FH, FSW 0, all empty, pointers and opcode 0, registers 0; SSE:
/// every accessible XMM register 0 and MXCSR 1F80H). XSAVEOPT uses the init optimization but not
/// the modified optimization (allowed: it only ever saves more).</para>
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The XCR0 bits this core supports: x87 and SSE.</summary>
    public const ulong XsaveSupportedMask = 3;

    /// <summary>The size of an XSAVE area for the supported components, standard or compacted.</summary>
    public const uint XsaveAreaSize = 576;

    private const ulong CompactedFormat = 1UL << 63;

    private ulong XInUse()
    {
        ulong v = FpuInUse() ? 1UL : 0;
        bool sse = Mxcsr != 0x1F80;
        for (int i = 0; i < XmmCount && !sse; i++)
        {
            sse = Xmm[i].GetElement(0) != 0 || Xmm[i].GetElement(1) != 0;
        }
        return v | (sse ? 2UL : 0);
    }

    private void ExecuteXsave(DecodedOp d)
    {
        // a model without the XSAVEOPT/XSAVEC bit of leaf 0xD.1 has no such instruction
        if ((d.H == Handler.Xsaveopt && !_hasXsaveopt) || (d.H == Handler.Xsavec && !_hasXsavec)) Raise(GuestFault.UD());
        if ((Cr4 & (1UL << 18)) == 0) Raise(GuestFault.UD());
        if ((Cr0 & 8) != 0) Raise(new GuestFault(GuestFault.DeviceNotAvailable, false, 0, 0));
        ulong la = Ea(d);
        if ((la & 63) != 0) Raise(GuestFault.GP());
        bool rexW = d.Aux != 0;
        ulong rfbm = Xcr0 & ((uint)Gpr[RAX] | ((ulong)(uint)Gpr[RDX] << 32));
        switch (d.H)
        {
            case Handler.Xsave:
            case Handler.Xsaveopt:
                XsaveStandard(la, rexW, rfbm, d.H == Handler.Xsaveopt);
                return;
            case Handler.Xsavec:
                XsaveCompacted(la, rexW, rfbm);
                return;
            default:
                Xrstor(la, rexW, rfbm);
                return;
        }
    }

    /// <summary>XSAVE saves every component in RFBM; XSAVEOPT only those in use. MXCSR and
    /// MXCSR_MASK whenever RFBM[1] or RFBM[2]. XSTATE_BV[i] = XINUSE[i] for i in RFBM, its other
    /// bits and the rest of the header untouched.</summary>
    private void XsaveStandard(ulong la, bool rexW, ulong rfbm, bool initOptimization)
    {
        ulong inUse = XInUse();
        ulong save = initOptimization ? rfbm & inUse : rfbm;
        ProbeWrite(la, (int)XsaveAreaSize);
        ulong xstateBv = Read(la + 512, 8);
        if ((save & 1) != 0) WriteLegacyX87(la, rexW);
        if ((rfbm & 6) != 0) WriteLegacyMxcsr(la);
        if ((save & 2) != 0) WriteLegacyXmm(la);
        Write(la + 512, 8, (xstateBv & ~rfbm) | (inUse & rfbm));
    }

    /// <summary>XSAVEC: saves the components in RFBM that are in use; XSTATE_BV = RFBM AND XINUSE,
    /// XCOMP_BV = RFBM | bit 63; bytes 464-511 and the header's reserved bytes untouched.</summary>
    private void XsaveCompacted(ulong la, bool rexW, ulong rfbm)
    {
        ulong save = rfbm & XInUse();
        ProbeWrite(la, (int)XsaveAreaSize);
        if ((save & 1) != 0) WriteLegacyX87(la, rexW);
        if ((save & 2) != 0)
        {
            WriteLegacyMxcsr(la);
            WriteLegacyXmm(la);
        }
        Write(la + 512, 8, save);
        Write(la + 520, 8, rfbm | CompactedFormat);
    }

    /// <summary>XRSTOR, standard form (XCOMP_BV bit 63 = 0): #GP(0) if XSTATE_BV has a bit XCR0
    /// lacks or header bytes 8-23 (XCOMP_BV and the next 8) are not 0; MXCSR loads when RFBM[1] or RFBM[2]. Compacted form:
    /// #GP(0) if XCOMP_BV has a bit XCR0 lacks, XSTATE_BV a bit XCOMP_BV lacks, or header bytes
    /// 16-63 are not 0; MXCSR loads with SSE state and is set to 1F80H when RFBM[1] = 1 and
    /// XSTATE_BV[1] = 0. Either form: a component i in RFBM loads when XSTATE_BV[i] = 1 and is
    /// set to its initial configuration otherwise.</summary>
    private void Xrstor(ulong la, bool rexW, ulong rfbm)
    {
        ulong xstateBv = Read(la + 512, 8);
        ulong xcompBv = Read(la + 520, 8);
        bool compacted = (xcompBv & CompactedFormat) != 0;
        if (compacted)
        {
            ulong components = xcompBv & ~CompactedFormat;
            if ((components & ~Xcr0) != 0 || (xstateBv & ~components) != 0) Raise(GuestFault.GP());
            for (ulong off = 528; off < 576; off += 8)
            {
                if (Read(la + off, 8) != 0) Raise(GuestFault.GP());
            }
        }
        else if ((xstateBv & ~Xcr0) != 0 || xcompBv != 0 || Read(la + 528, 8) != 0)
        {
            Raise(GuestFault.GP());
        }

        uint mx = Mxcsr;
        if (compacted ? (rfbm & 2) != 0 && (xstateBv & 2) != 0 : (rfbm & 6) != 0)
        {
            mx = ReadLegacyMxcsr(la);
        }
        else if (compacted && (rfbm & 2) != 0)
        {
            mx = 0x1F80;
        }
        bool loadX87 = (rfbm & 1) != 0 && (xstateBv & 1) != 0;
        bool loadSse = (rfbm & 2) != 0 && (xstateBv & 2) != 0;
        var x87 = loadX87 ? ReadLegacyX87(la, rexW) : null;
        var xmm = loadSse ? ReadLegacyXmm(la) : null;

        // every check and read done: commit
        if ((rfbm & 1) != 0)
        {
            if (x87 != null) CommitX87(x87); else FpuInitialConfiguration();
        }
        if ((rfbm & 2) != 0)
        {
            if (xmm != null)
            {
                xmm.CopyTo(Xmm, 0);
            }
            else
            {
                Array.Clear(Xmm, 0, XmmCount);
            }
        }
        Mxcsr = mx;
    }
}
