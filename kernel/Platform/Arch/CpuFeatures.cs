namespace HekiGuest.Platform.Arch;

// The CPUID bits the kernel's protections depend on, read once.
public static unsafe class CpuFeatures
{
    public static bool Nx, Smep, Smap, Umip, Xsave, Pge, FsGsBase, Rdtscp;
    public static uint MaxLeaf;
    public static bool Hypervisor;

    public static void Detect()
    {
        uint* r = stackalloc uint[4];
        Native.CpuId(0, 0, r);
        MaxLeaf = r[0];
        Native.CpuId(1, 0, r);
        Xsave = (r[2] & (1u << 26)) != 0;
        Hypervisor = (r[2] & (1u << 31)) != 0;
        Pge = (r[3] & (1u << 13)) != 0;
        if (MaxLeaf >= 7)
        {
            Native.CpuId(7, 0, r);
            FsGsBase = (r[1] & 1) != 0;
            Smep = (r[1] & (1u << 7)) != 0;
            Smap = (r[1] & (1u << 20)) != 0;
            Umip = (r[2] & (1u << 2)) != 0;
        }
        Native.CpuId(0x80000000, 0, r);
        if (r[0] >= 0x80000001)
        {
            Native.CpuId(0x80000001, 0, r);
            Nx = (r[3] & (1u << 20)) != 0;
            Rdtscp = (r[3] & (1u << 27)) != 0;
        }
    }
}
