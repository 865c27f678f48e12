namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Writes the multiboot2 boot information block (tags: command line, loader name,
/// modules, basic memory info, memory map, end), as GRUB does.</summary>
public static class Multiboot2Info
{
    public const uint Magic = 0x36D76289;
    public const uint HeaderMagic = 0xE85250D6;

    public static byte[] Build(string commandLine, IReadOnlyList<(ulong Start, ulong End, string Name)> modules,
        IReadOnlyList<MemoryMapEntry> memoryMap, ulong memorySize)
    {
        var b = new BootInfoBuilder();
        b.U32(0);                                 // total size, patched below
        b.U32(0);
        Tag(b, 1, () => b.CString(commandLine));
        Tag(b, 2, () => b.CString("HekiGuest hostsim"));
        foreach (var m in modules)
        {
            Tag(b, 3, () => { b.U32((uint)m.Start); b.U32((uint)m.End); b.CString(m.Name); });
        }
        Tag(b, 4, () => { b.U32(640); b.U32((uint)((memorySize - 0x100000) / 1024)); });
        Tag(b, 6, () =>
        {
            b.U32(24);
            b.U32(0);
            foreach (var e in memoryMap) { b.U64(e.Base); b.U64(e.Length); b.U32(e.Type); b.U32(0); }
        });
        Tag(b, 0, () => { });
        b.PatchU32(0, (uint)b.Length);
        return b.ToArray();
    }

    private static void Tag(BootInfoBuilder b, uint type, Action body)
    {
        b.Align(8);
        int start = b.Length;
        b.U32(type);
        b.U32(0);
        body();
        b.PatchU32(start + 4, (uint)(b.Length - start));
    }
}
