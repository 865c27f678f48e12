using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Kernel.Boot;

// Gives the allocator every usable RAM range the loader reported, minus what is in use: low
// memory, the kernel image, the boot information, the modules and the VTL1 monitor's memory
// (kept for it even on hosts where it does not start). Only the identity-mapped
// first 4 GiB is used.
public static unsafe class HeapSetup
{
    private const ulong MinRange = 1UL << 20;
    private const int MaxExclusions = BootInfo.MaxModules + 5;

    public static ulong Added;

    public static void ExtendFromMemoryMap(BootInfo b)
    {
        ulong* exStart = stackalloc ulong[MaxExclusions];
        ulong* exEnd = stackalloc ulong[MaxExclusions];
        int n = 0;
        exStart[n] = 0; exEnd[n++] = 1UL << 20;
        exStart[n] = LinkerSymbols.ImageStart(); exEnd[n++] = LinkerSymbols.ImageEnd();
        if (Vtl.MonitorBoot.Reserved(out ulong monLow, out ulong monHigh)) { exStart[n] = monLow; exEnd[n++] = monHigh; }
        if (b.InfoAddress != 0) { exStart[n] = b.InfoAddress; exEnd[n++] = b.InfoAddress + (b.InfoSize == 0 ? 4096 : b.InfoSize); }
        for (int i = 0; i < b.ModuleCount && n < MaxExclusions; i++)
        {
            exStart[n] = b.Modules[i].Start & ~0xFFFUL;
            exEnd[n++] = (b.Modules[i].Start + b.Modules[i].Size + 0xFFF) & ~0xFFFUL;
        }
        for (int r = 0; r < b.RegionCount; r++)
        {
            if (b.Regions[r].Type != MemoryType.Usable) continue;
            ulong start = (b.Regions[r].Base + 0xFFF) & ~0xFFFUL;
            ulong end = (b.Regions[r].Base + b.Regions[r].Length) & ~0xFFFUL;
            if (end > BootInfo.IdentityMapLimit) end = BootInfo.IdentityMapLimit;
            ulong cur = start;
            while (cur < end)
            {
                // The lowest exclusion that overlaps [cur, end).
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (exEnd[i] > cur && exStart[i] < end && (best < 0 || exStart[i] < exStart[best])) best = i;
                ulong stop = best < 0 ? end : (exStart[best] > cur ? exStart[best] : cur);
                if (stop > cur && stop - cur >= MinRange && Heap.AddRegion((byte*)cur, stop - cur)) Added += stop - cur;
                if (best < 0) break;
                cur = exEnd[best] > cur ? exEnd[best] : cur + 1;
            }
        }
    }
}
