namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Writes a multiboot (version 1) information structure with memory bounds, command
/// line, modules and memory map, as QEMU's -kernel does for ELF32 multiboot images.</summary>
public static class Multiboot1Info
{
    public const uint Magic = 0x2BADB002;
    public const uint HeaderMagic = 0x1BADB002;

    public static byte[] Build(ulong at, string commandLine, (ulong Start, ulong End, string Name)[] modules,
        MemoryMapEntry[] memoryMap, ulong memorySize)
    {
        var b = new BootInfoBuilder();
        const uint flags = 1 << 0 | 1 << 2 | 1 << 3 | 1 << 6;
        b.U32(flags);
        b.U32(640);
        b.U32((uint)((memorySize - 0x100000) / 1024));
        b.U32(0xFFFFFFFF);        // boot device: none
        b.U32(0);                 // cmdline (patched, offset 16)
        b.U32((uint)modules.Length);
        b.U32(0);                 // mods_addr (patched, offset 24)
        for (int i = 0; i < 4; i++) b.U32(0);
        b.U32(0);                 // mmap_length (patched, offset 44)
        b.U32(0);                 // mmap_addr (patched, offset 48)
        int mods = b.Length;
        foreach (var m in modules) { b.U32((uint)m.Start); b.U32((uint)m.End); b.U32(0); b.U32(0); }
        int mmap = b.Length;
        foreach (var e in memoryMap) { b.U32(20); b.U64(e.Base); b.U64(e.Length); b.U32(e.Type); }
        int mmapEnd = b.Length;
        int cmd = b.Length;
        b.CString(commandLine);
        for (int i = 0; i < modules.Length; i++)
        {
            int name = b.Length;
            b.CString(modules[i].Name);
            b.PatchU32(mods + i * 16 + 8, (uint)(at + (ulong)name));
        }
        b.PatchU32(16, (uint)(at + (ulong)cmd));
        b.PatchU32(24, (uint)(at + (ulong)mods));
        b.PatchU32(44, (uint)(mmapEnd - mmap));
        b.PatchU32(48, (uint)(at + (ulong)mmap));
        return b.ToArray();
    }
}
