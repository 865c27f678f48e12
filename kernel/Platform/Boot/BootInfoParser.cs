namespace HekiGuest.Platform.Boot;

// Parses the multiboot2 information block or the PVH hvm_start_info into a BootInfo.
public static unsafe class BootInfoParser
{
    public const uint Multiboot2Magic = 0x36D76289;
    public const uint PvhMagic = 0x336EC578;
    private const uint MaxInfoSize = 1 << 20;

    public static BootInfo Parse(uint magic, ulong info)
    {
        var b = new BootInfo { Magic = magic, InfoAddress = info };
        if (info == 0 || info >= BootInfo.IdentityMapLimit - 64)
        {
            b.Error = "boot information pointer is null or outside memory";
            return b;
        }
        if (magic == Multiboot2Magic) ParseMultiboot2(b, (byte*)info);
        else if (*(uint*)info == PvhMagic) ParsePvh(b, (byte*)info);
        else b.Error = "unknown boot protocol: neither the multiboot2 magic in EAX nor a PVH start info";
        return b;
    }

    private static bool InRange(ulong address, ulong length) =>
        address != 0 && address + length >= address && address + length <= BootInfo.IdentityMapLimit;

    private static void ParseMultiboot2(BootInfo b, byte* p)
    {
        b.Protocol = BootProtocol.Multiboot2;
        uint total = *(uint*)p;
        b.InfoSize = total;
        if (total < 16 || total > MaxInfoSize) { b.Error = "multiboot2 info has an invalid total size"; return; }
        bool sawEnd = false;
        uint offset = 8;
        while (offset + 8 <= total)
        {
            byte* tag = p + offset;
            uint type = *(uint*)tag, size = *(uint*)(tag + 4);
            if (size < 8 || offset + size > total) { b.Error = "multiboot2 tag overruns the info block"; return; }
            switch (type)
            {
                case 0: sawEnd = true; break;
                case 1:
                    b.CommandLine = BootInfo.CopyString(tag + 8, (int)size - 8);
                    b.HasCommandLine = true;
                    break;
                case 3:
                    if (size < 16) { b.Error = "multiboot2 module tag too short"; return; }
                    uint start = *(uint*)(tag + 8), end = *(uint*)(tag + 12);
                    if (end < start) { b.Error = "multiboot2 module ends before it starts"; return; }
                    b.AddModule(start, end - start, BootInfo.CopyString(tag + 16, (int)size - 16));
                    break;
                case 6:
                    uint entrySize = *(uint*)(tag + 8);
                    if (entrySize < 24 || entrySize > 256) { b.Error = "multiboot2 memory map entry size invalid"; return; }
                    for (uint e = 16; e + entrySize <= size; e += entrySize)
                        b.AddRegion(*(ulong*)(tag + e), *(ulong*)(tag + e + 8), *(uint*)(tag + e + 16));
                    break;
            }
            if (sawEnd) break;
            offset += (size + 7) & ~7u;
        }
        if (!sawEnd) b.Error ??= "multiboot2 info has no end tag";
        if (b.RegionCount == 0) b.Error ??= "multiboot2 info has no memory map";
    }

    private static void ParsePvh(BootInfo b, byte* p)
    {
        b.Protocol = BootProtocol.Pvh;
        uint version = *(uint*)(p + 4);
        uint moduleCount = *(uint*)(p + 12);
        ulong modlist = *(ulong*)(p + 16);
        ulong cmdline = *(ulong*)(p + 24);
        b.InfoSize = version >= 1 ? 56u : 32u;
        if (cmdline != 0)
        {
            if (!InRange(cmdline, 1)) { b.Error = "PVH command line outside memory"; return; }
            b.CommandLine = BootInfo.CopyString((byte*)cmdline, 4096);
            b.HasCommandLine = true;
        }
        if (moduleCount > 0)
        {
            if (moduleCount > 1024 || !InRange(modlist, moduleCount * 32UL)) { b.Error = "PVH module list invalid"; return; }
            for (uint i = 0; i < moduleCount; i++)
            {
                ulong* m = (ulong*)(modlist + i * 32);
                string name = m[2] != 0 && InRange(m[2], 1) ? BootInfo.CopyString((byte*)m[2], 256) : "";
                b.AddModule(m[0], m[1], name);
            }
        }
        if (version < 1) { b.Error = "PVH start info version 0 carries no memory map"; return; }
        ulong memmap = *(ulong*)(p + 40);
        uint entries = *(uint*)(p + 48);
        if (entries == 0 || entries > 1024 || !InRange(memmap, entries * 24UL)) { b.Error = "PVH memory map invalid"; return; }
        for (uint i = 0; i < entries; i++)
        {
            byte* e = (byte*)(memmap + i * 24);
            b.AddRegion(*(ulong*)e, *(ulong*)(e + 8), *(uint*)(e + 16));
        }
    }
}
