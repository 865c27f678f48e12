using HekiGuest.Abi;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Drivers;
using HekiGuest.Platform.Heki;
using HekiGuest.Platform;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.Heki;

// The kernel's use of the SDK's default policy (GuestHardening): the platform describes its image
// (text from the image start, the sealed section, rodata) and its usable RAM below the
// identity-map limit (ImageDescription), and the SDK pins, protects and reports. Runs once, right
// after the kernel's own page tables and protection bits are in place. 
// The fields keep the outcome for the heki self-tests.
public static unsafe class KernelHardening
{
    public static HekiHostInterface Host;
    public static SealedHekiCpu Cpu;
    public static CrPinner Pinner;
    public static MemoryProtector Protector;
    public static long Cr0PinResult = HekiError.NotSupported, Cr4PinResult = HekiError.NotSupported, MemoryResult = HekiError.NotSupported;
    public static ulong Cr0Pinned, Cr4Pinned;
    public static int RangeCount;

    public static void Apply(BootInfo boot, CommandLine cmdline, TextOut o)
    {
        Cpu = new SealedHekiCpu();
        PhysicalRegion* ram = stackalloc PhysicalRegion[BootInfo.MaxRegions];
        GuestImage image = ImageDescription.Describe(boot, ram);
        GuestHardening g = GuestHardening.Apply(Cpu, cmdline.Get("heki.profile"), image, new TextOutReport(o));
        Host = g.Host;
        Pinner = g.Pinner;
        Protector = g.Protector;
        Cr0PinResult = g.Cr0PinResult;
        Cr4PinResult = g.Cr4PinResult;
        MemoryResult = g.MemoryResult;
        Cr0Pinned = g.Cr0Pinned;
        Cr4Pinned = g.Cr4Pinned;
        RangeCount = g.RangeCount;
    }
}
