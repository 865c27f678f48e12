namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Writes the multiboot2 boot information block (tags: command line, loader name,
/// modules, basic memory info, memory map, end), as GRUB does.</summary>
public static class Multiboot2Info
{
    public const uint Magic = 0x36D76289;
    public const uint HeaderMagic = 0xE85250D6;

    public static byte[] Build(string commandLine, (ulong Start, ulong End, string Name)[] modules,
        MemoryMapEntry[] memoryMap, ulong memorySize)
    {
        var b = new BootInfoBuilder();
        b.U32(0);                                 // total size, patched below
        b.U32(0);
        int tag = Begin(b, 1);
        b.CString(commandLine);
        End(b, tag);
        tag = Begin(b, 2);
        b.CString("HekiGuest hostsim");
        End(b, tag);
        foreach (var m in modules)
        {
            tag = Begin(b, 3);
            b.U32((uint)m.Start);
            b.U32((uint)m.End);
            b.CString(m.Name);
            End(b, tag);
        }
        tag = Begin(b, 4);
        b.U32(640);
        b.U32((uint)((memorySize - 0x100000) / 1024));
        End(b, tag);
        tag = Begin(b, 6);
        b.U32(24);
        b.U32(0);
        foreach (var e in memoryMap) { b.U64(e.Base); b.U64(e.Length); b.U32(e.Type); b.U32(0); }
        End(b, tag);
        End(b, Begin(b, 0));
        b.PatchU32(0, (uint)b.Length);
        return b.ToArray();
    }

    /// <summary>Starts a tag (8-byte aligned) and returns where it starts; <see cref="End"/> writes its size.</summary>
    private static int Begin(BootInfoBuilder b, uint type)
    {
        b.Align(8);
        int start = b.Length;
        b.U32(type);
        b.U32(0);
        return start;
    }

    private static void End(BootInfoBuilder b, int start) => b.PatchU32(start + 4, (uint)(b.Length - start));
}
