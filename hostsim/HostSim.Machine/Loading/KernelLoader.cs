using System.Buffers.Binary;
using HekiGuest.Elf;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>
/// Loads a kernel ELF into guest RAM the way a boot loader would: PT_LOAD segments at their
/// physical addresses, modules page-aligned after the image, then the boot information for the
/// chosen protocol (multiboot2 like GRUB, PVH like QEMU's -kernel, or multiboot1 for ELF32
/// images). Bad input is a <see cref="LoadError"/>.
/// </summary>
public static class KernelLoader
{
    public const int Multiboot2SearchBytes = 32768;
    public const int Multiboot1SearchBytes = 8192;

    public static LoadedKernel Load(byte[] image, PhysicalMemory memory, string commandLine,
        IReadOnlyList<ModuleSpec> modules, BootProtocol protocol = BootProtocol.Auto)
    {
        ElfFile elf;
        try { elf = ElfFile.Parse(image); }
        catch (ElfError e) { throw new LoadError($"kernel image: {e.Message}"); }

        bool hasMb2 = FindMultiboot2Header(image) >= 0;
        bool hasMb1 = FindMultiboot1Header(image) >= 0;
        uint? pvhEntry = FindPvhEntry(elf);
        if (protocol == BootProtocol.Auto)
        {
            protocol = hasMb2 ? BootProtocol.Multiboot2 : pvhEntry is not null ? BootProtocol.Pvh
                : hasMb1 && elf.Class == ElfClass.Elf32 ? BootProtocol.Multiboot1
                : throw new LoadError("kernel image has no multiboot2 header, no PVH note and no multiboot1 header");
        }
        if (protocol == BootProtocol.Multiboot2 && !hasMb2) throw new LoadError("kernel image has no multiboot2 header (in its first 32 KiB)");
        if (protocol == BootProtocol.Pvh && pvhEntry is null) throw new LoadError("kernel image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
        if (protocol == BootProtocol.Multiboot1 && !hasMb1) throw new LoadError("kernel image has no multiboot1 header (in its first 8 KiB)");

        var memoryMap = MemoryMapEntry.PcLayout(memory.Size);
        ulong imageStart = ulong.MaxValue, imageEnd = 0;
        foreach (var ph in elf.ProgramHeaders.Where(p => p.IsLoad && p.MemorySize > 0))
        {
            ulong at = ph.PhysicalAddress;
            if (at < 0x100000 && at + ph.MemorySize > 0x9FC00)
                throw new LoadError($"segment at 0x{at:x} overlaps the legacy hole below 1 MiB");
            if (at + ph.MemorySize > memory.Size || at + ph.MemorySize < at)
                throw new LoadError($"kernel image does not fit in guest memory: segment 0x{at:x}+0x{ph.MemorySize:x} > {memory.Size >> 20} MiB");
            var dst = memory.Slice(at, checked((int)ph.MemorySize));
            elf.Bytes(ph.Offset, ph.FileSize).CopyTo(dst);
            dst[(int)ph.FileSize..].Clear();
            imageStart = Math.Min(imageStart, at);
            imageEnd = Math.Max(imageEnd, at + ph.MemorySize);
        }
        if (imageEnd == 0) throw new LoadError("kernel image has no loadable segment");

        ulong cursor = PageAlign(imageEnd);
        var placed = new List<(ulong Start, ulong End, string Name)>();
        foreach (var m in modules)
        {
            ulong end = cursor + (ulong)m.Contents.Length;
            if (end > memory.Size) throw new LoadError($"modules do not fit in guest memory ({memory.Size >> 20} MiB)");
            m.Contents.CopyTo(memory.Slice(cursor, m.Contents.Length));
            placed.Add((cursor, end, m.CommandLine));
            cursor = PageAlign(end);
        }

        ulong infoAt = cursor;
        byte[] info = protocol switch
        {
            BootProtocol.Multiboot2 => Multiboot2Info.Build(commandLine, placed, memoryMap, memory.Size),
            BootProtocol.Pvh => PvhStartInfo.Build(infoAt, commandLine, placed, memoryMap),
            _ => Multiboot1Info.Build(infoAt, commandLine, placed, memoryMap, memory.Size),
        };
        if (infoAt + (ulong)info.Length > memory.Size) throw new LoadError("boot information does not fit in guest memory");
        info.CopyTo(memory.Slice(infoAt, info.Length));

        uint entry = protocol == BootProtocol.Pvh ? pvhEntry!.Value : checked((uint)elf.Entry);
        uint eax = protocol switch
        {
            BootProtocol.Multiboot2 => Multiboot2Info.Magic,
            BootProtocol.Multiboot1 => Multiboot1Info.Magic,
            _ => 0,
        };
        return new LoadedKernel(protocol, entry, eax, (uint)infoAt, imageStart, imageEnd,
            placed.Select(p => (p.Start, p.End)).ToList(), infoAt);
    }

    private static ulong PageAlign(ulong v) => (v + 0xFFF) & ~0xFFFUL;

    /// <summary>Offset of a valid multiboot2 header (magic, architecture 0, checksum) or -1.</summary>
    public static int FindMultiboot2Header(ReadOnlySpan<byte> image)
    {
        int limit = Math.Min(image.Length, Multiboot2SearchBytes) - 16;
        for (int o = 0; o <= limit; o += 8)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(image[o..]);
            if (magic != Multiboot2Info.HeaderMagic) continue;
            uint arch = BinaryPrimitives.ReadUInt32LittleEndian(image[(o + 4)..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(image[(o + 8)..]);
            uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(image[(o + 12)..]);
            if (arch == 0 && unchecked(magic + arch + length + checksum) == 0) return o;
        }
        return -1;
    }

    /// <summary>Offset of a valid multiboot1 header (magic, flags, checksum) or -1.</summary>
    public static int FindMultiboot1Header(ReadOnlySpan<byte> image)
    {
        int limit = Math.Min(image.Length, Multiboot1SearchBytes) - 12;
        for (int o = 0; o <= limit; o += 4)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(image[o..]);
            if (magic != Multiboot1Info.HeaderMagic) continue;
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(image[(o + 4)..]);
            uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(image[(o + 8)..]);
            if (unchecked(magic + flags + checksum) == 0) return o;
        }
        return -1;
    }

    public static uint? FindPvhEntry(ElfFile elf)
    {
        try
        {
            foreach (var note in elf.Notes())
            {
                if (note.Name != "Xen" || note.Type != PvhStartInfo.Phys32EntryNote) continue;
                if (note.Descriptor.Length >= 8) return (uint)BinaryPrimitives.ReadUInt64LittleEndian(note.Descriptor);
                if (note.Descriptor.Length >= 4) return BinaryPrimitives.ReadUInt32LittleEndian(note.Descriptor);
            }
        }
        catch (ElfError e) { throw new LoadError($"kernel image: {e.Message}"); }
        return null;
    }
}
