namespace HekiGuest.Platform.Arch;

// Bit numbers of the control registers and EFER the kernel sets or pins.
public static class ControlRegisters
{
    public const ulong Cr0Pe = 1UL << 0, Cr0Mp = 1UL << 1, Cr0Em = 1UL << 2, Cr0Ts = 1UL << 3,
        Cr0Ne = 1UL << 5, Cr0Wp = 1UL << 16, Cr0Pg = 1UL << 31;
    public const ulong Cr4Pae = 1UL << 5, Cr4Pge = 1UL << 7, Cr4Osfxsr = 1UL << 9, Cr4Osxmmexcpt = 1UL << 10,
        Cr4Umip = 1UL << 11, Cr4Fsgsbase = 1UL << 16, Cr4Osxsave = 1UL << 18, Cr4Smep = 1UL << 20, Cr4Smap = 1UL << 21,
        Cr4Tsd = 1UL << 2;
    public const uint EferMsr = 0xC0000080;
    public const ulong EferLme = 1UL << 8, EferLma = 1UL << 10, EferNxe = 1UL << 11;
    public const ulong RflagsAc = 1UL << 18;
}
