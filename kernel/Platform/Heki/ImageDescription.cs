using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Sdk;

namespace HekiGuest.Platform.Heki;

// The GuestImage of an image built on the platform layer: its text (from the image start, so the
// boot stub's headers are included), sealed section and rodata from the linker symbols, and its
// RAM from the loader's memory map: every usable region, clipped at the identity-map limit.
public static unsafe class ImageDescription
{
    // ram must hold BootInfo.MaxRegions entries; it backs the returned GuestImage.Ram.
    public static GuestImage Describe(BootInfo boot, PhysicalRegion* ram)
    {
        int n = 0;
        for (int i = 0; i < boot.RegionCount && n < BootInfo.MaxRegions; i++)
        {
            if (boot.Regions[i].Type != MemoryType.Usable) continue;
            ulong start = boot.Regions[i].Base, end = start + boot.Regions[i].Length;
            if (start >= BootInfo.IdentityMapLimit) continue;
            ram[n].Start = start;
            ram[n].End = end > BootInfo.IdentityMapLimit ? BootInfo.IdentityMapLimit : end;
            n++;
        }
        GuestImage image;
        image.TextStart = LinkerSymbols.ImageStart();
        image.TextEnd = LinkerSymbols.TextEnd();
        image.SealedStart = LinkerSymbols.SealedStart();
        image.SealedEnd = LinkerSymbols.SealedEnd();
        image.RodataStart = LinkerSymbols.RodataStart();
        image.RodataEnd = LinkerSymbols.RodataEnd();
        image.Ram = ram;
        image.RamCount = n;
        return image;
    }
}
