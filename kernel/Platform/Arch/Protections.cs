namespace HekiGuest.Platform.Arch;

// The guest-side protection bits: EFER.NXE, CR0.WP, CR4.SMEP/SMAP/UMIP, each enabled when the
// CPU has it. Every write goes through the sealed routines.
public static class Protections
{
    public static bool Nxe, Wp, Smep, Smap, Umip;

    public static void Enable()
    {
        ulong efer = Native.ReadMsr(ControlRegisters.EferMsr);
        if (CpuFeatures.Nx && (efer & ControlRegisters.EferNxe) == 0)
            SealedOps.WriteMsr(ControlRegisters.EferMsr, efer | ControlRegisters.EferNxe);
        Nxe = (Native.ReadMsr(ControlRegisters.EferMsr) & ControlRegisters.EferNxe) != 0;

        SealedOps.WriteCr0(Native.ReadCr0() | ControlRegisters.Cr0Wp);
        Wp = (Native.ReadCr0() & ControlRegisters.Cr0Wp) != 0;

        ulong cr4 = Native.ReadCr4();
        if (CpuFeatures.Smep) cr4 |= ControlRegisters.Cr4Smep;
        if (CpuFeatures.Smap) cr4 |= ControlRegisters.Cr4Smap;
        if (CpuFeatures.Umip) cr4 |= ControlRegisters.Cr4Umip;
        SealedOps.WriteCr4(cr4);
        cr4 = Native.ReadCr4();
        Smep = (cr4 & ControlRegisters.Cr4Smep) != 0;
        Smap = (cr4 & ControlRegisters.Cr4Smap) != 0;
        Umip = (cr4 & ControlRegisters.Cr4Umip) != 0;
    }

    public static void Report(Drivers.TextOut o)
    {
        o.Write("protections: NX ").Write(Nxe ? "on" : "absent").Write(", CR0.WP ").Write(Wp ? "on" : "off")
            .Write(", SMEP ").Write(Smep ? "on" : "absent").Write(", SMAP ").Write(Smap ? "on" : "absent")
            .Write(", UMIP ").Write(Umip ? "on" : "absent").Line(" (guest-enforced)");
    }
}
