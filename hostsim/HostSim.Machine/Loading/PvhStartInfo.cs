namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>Writes a PVH hvm_start_info (version 1, with the memory map) and what it points to.
/// All pointers are physical addresses inside the same block, which starts at <c>at</c>.</summary>
public static class PvhStartInfo
{
    public const uint Magic = 0x336EC578;
    public const uint Phys32EntryNote = 18;

    public static byte[] Build(ulong at, string commandLine, (ulong Start, ulong End, string Name)[] modules,
        MemoryMapEntry[] memoryMap)
    {
        var b = new BootInfoBuilder();
        b.U32(Magic);
        b.U32(1);                 // version
        b.U32(0);                 // flags
        b.U32((uint)modules.Length);
        b.U64(0);                 // modlist_paddr (patched)
        b.U64(0);                 // cmdline_paddr (patched)
        b.U64(0);                 // rsdp_paddr: no ACPI
        b.U64(0);                 // memmap_paddr (patched)
        b.U32((uint)memoryMap.Length);
        b.U32(0);
        b.Align(8);
        int modlist = b.Length;
        foreach (var m in modules) { b.U64(m.Start); b.U64(m.End - m.Start); b.U64(0); b.U64(0); }
        int memmap = b.Length;
        foreach (var e in memoryMap) { b.U64(e.Base); b.U64(e.Length); b.U32(e.Type); b.U32(0); }
        int cmdline = b.Length;
        b.CString(commandLine);
        for (int i = 0; i < modules.Length; i++)
        {
            int name = b.Length;
            b.CString(modules[i].Name);
            b.PatchU64(modlist + i * 32 + 16, at + (ulong)name);
        }
        if (modules.Length > 0) b.PatchU64(16, at + (ulong)modlist);
        b.PatchU64(24, at + (ulong)cmdline);
        b.PatchU64(40, at + (ulong)memmap);
        return b.ToArray();
    }
}
