namespace HekiGuest.Platform.Boot;

public enum BootProtocol { Unknown, Multiboot2, Pvh }

public enum MemoryType : uint { Usable = 1, Reserved = 2, AcpiReclaimable = 3, AcpiNvs = 4, Bad = 5 }

public struct MemoryRegion
{
    public ulong Base;
    public ulong Length;
    public MemoryType Type;
}

public struct BootModule
{
    public ulong Start;
    public ulong Size;
    public string Name;           // the module's command line, copied at parse time
}

// What the loader told us, in one protocol-independent shape. Parse errors are recorded, not
// fatal: the boot self-tests report them as FAIL lines, and the kernel decides what to do.
public sealed unsafe class BootInfo
{
    public const int MaxRegions = 64;
    public const int MaxModules = 16;
    public const ulong IdentityMapLimit = 1UL << 32;

    public BootProtocol Protocol;
    public uint Magic;
    public ulong InfoAddress;
    public ulong InfoSize;
    public string CommandLine;    // copied at parse time: the loader's memory is not kept mapped
    public bool HasCommandLine;
    public readonly MemoryRegion[] Regions = new MemoryRegion[MaxRegions];
    public int RegionCount;
    public readonly BootModule[] Modules = new BootModule[MaxModules];
    public int ModuleCount;
    public bool ModulesTruncated;
    public string Error;          // first problem found, or null

    public ulong UsableBytes
    {
        get
        {
            ulong total = 0;
            for (int i = 0; i < RegionCount; i++)
                if (Regions[i].Type == MemoryType.Usable) total += Regions[i].Length;
            return total;
        }
    }

    public void AddRegion(ulong start, ulong length, uint type)
    {
        if (RegionCount >= MaxRegions) { Error ??= "memory map has more than 64 entries"; return; }
        Regions[RegionCount].Base = start;
        Regions[RegionCount].Length = length;
        Regions[RegionCount].Type = (MemoryType)type;
        RegionCount++;
    }

    public void AddModule(ulong start, ulong size, string name)
    {
        if (ModuleCount >= MaxModules) { ModulesTruncated = true; return; }
        Modules[ModuleCount].Start = start;
        Modules[ModuleCount].Size = size;
        Modules[ModuleCount].Name = name;
        ModuleCount++;
    }

    public static string CopyString(byte* s, int max) => s == null ? "" : string.FromAscii(s, StringLength(s, max));

    public static int StringLength(byte* s, int max)
    {
        int n = 0;
        while (n < max && s[n] != 0) n++;
        return n;
    }
}
