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
    private const ulong LegacyHoleStart = 0x9FC00, LegacyHoleEnd = 0x100000;
    private const ulong FourGiB = 1UL << 32;

    public static LoadedKernel Load(byte[] image, PhysicalMemory memory, string commandLine,
        IReadOnlyList<ModuleSpec> modules, BootProtocol protocol = BootProtocol.Auto)
    {
        ElfImage elf;
        try { elf = ElfImage.Parse(image); }
        catch (ElfFormatException e) { throw new LoadError($"kernel image: {e.Message}"); }

        bool hasMb2 = FindMultiboot2Header(image) >= 0;
        bool hasMb1 = FindMultiboot1Header(image) >= 0;
        uint? pvhEntry = FindPvhEntry(elf);
        if (protocol == BootProtocol.Auto)
        {
            protocol = hasMb2 ? BootProtocol.Multiboot2 : pvhEntry is not null ? BootProtocol.Pvh
                : hasMb1 && elf.Class == ElfClass.Elf32 ? BootProtocol.Multiboot1
                : hasMb1 ? throw new LoadError("kernel image is ELF64 with only a multiboot1 header: multiboot1 boots ELF32 images (use --boot multiboot1 to force it)")
                : throw new LoadError("kernel image has no multiboot2 header, no PVH note and no multiboot1 header");
        }
        if (protocol == BootProtocol.Multiboot2 && !hasMb2) throw new LoadError("kernel image has no multiboot2 header (in its first 32 KiB)");
        if (protocol == BootProtocol.Pvh && pvhEntry is null) throw new LoadError("kernel image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
        if (protocol == BootProtocol.Multiboot1 && !hasMb1) throw new LoadError("kernel image has no multiboot1 header (in its first 8 KiB)");

        var memoryMap = MemoryMapEntry.PcLayout(memory.Size);
        ulong imageStart = ulong.MaxValue, imageEnd = 0;
        var loads = elf.Segments.Where(p => p.IsLoad && p.MemorySize > 0).ToList();
        foreach (var ph in loads)
        {
            ulong at = ph.PhysicalAddress;
            ulong end = at + ph.MemorySize;
            if (end > memory.Size || end < at)
                throw new LoadError($"kernel image does not fit in guest memory: segment 0x{at:x}+0x{ph.MemorySize:x} > {memory.Size >> 20} MiB");
            if (at < LegacyHoleEnd && end > LegacyHoleStart)
                throw new LoadError($"segment at 0x{at:x} overlaps the legacy hole below 1 MiB");
            var file = elf.FileBytes(ph.Offset, ph.FileSize);
            file.CopyTo(memory.Slice(at, file.Length));
            for (ulong z = at + ph.FileSize; z < end;)        // .bss, in chunks a span can hold
            {
                int n = (int)Math.Min(end - z, 1UL << 30);
                memory.Slice(z, n).Clear();
                z += (ulong)n;
            }
            imageStart = Math.Min(imageStart, at);
            imageEnd = Math.Max(imageEnd, end);
        }
        if (imageEnd == 0) throw new LoadError("kernel image has no loadable segment");
        uint entry = protocol == BootProtocol.Pvh ? pvhEntry!.Value : EntryPoint(elf, loads);

        // Multiboot keeps module and boot information addresses in 32-bit fields, and EBX
        // carries the boot information address for every protocol.
        ulong addressLimit = protocol == BootProtocol.Pvh ? memory.Size : Math.Min(memory.Size, FourGiB);
        ulong cursor = PageAlign(imageEnd);
        var placed = new (ulong Start, ulong End, string Name)[modules.Count];
        var placedRanges = new (ulong Start, ulong End)[modules.Count];
        for (int i = 0; i < modules.Count; i++)
        {
            var m = modules[i];
            cursor = SkipLegacyHole(cursor, (ulong)m.Contents.Length);
            ulong end = cursor + (ulong)m.Contents.Length;
            if (end > addressLimit)
                throw new LoadError($"modules do not fit in guest memory ({memory.Size >> 20} MiB): module '{m.CommandLine}' "
                    + $"({m.Contents.Length} bytes) would end at 0x{end:x}");
            m.Contents.CopyTo(memory.Slice(cursor, m.Contents.Length));
            placed[i] = (cursor, end, m.CommandLine);
            placedRanges[i] = (cursor, end);
            cursor = PageAlign(end);
        }

        ulong infoAt = SkipLegacyHole(cursor, 4096);
        byte[] info = protocol switch
        {
            BootProtocol.Multiboot2 => Multiboot2Info.Build(commandLine, placed, memoryMap, memory.Size),
            BootProtocol.Pvh => PvhStartInfo.Build(infoAt, commandLine, placed, memoryMap),
            _ => Multiboot1Info.Build(infoAt, commandLine, placed, memoryMap, memory.Size),
        };
        if (infoAt + (ulong)info.Length > Math.Min(memory.Size, FourGiB)) throw new LoadError("boot information does not fit in guest memory");
        info.CopyTo(memory.Slice(infoAt, info.Length));

        uint eax = protocol switch
        {
            BootProtocol.Multiboot2 => Multiboot2Info.Magic,
            BootProtocol.Multiboot1 => Multiboot1Info.Magic,
            _ => 0,
        };
        return new LoadedKernel(protocol, entry, eax, (uint)infoAt, imageStart, imageEnd,
            placedRanges, infoAt);
    }

    private static ulong PageAlign(ulong v) => (v + 0xFFF) & ~0xFFFUL;

    /// <summary>Where <paramref name="length"/> bytes go at or after <paramref name="cursor"/>
    /// without touching the legacy hole (EBDA, VGA, option ROMs, BIOS: reserved in the memory map).</summary>
    private static ulong SkipLegacyHole(ulong cursor, ulong length) =>
        cursor < LegacyHoleEnd && cursor + Math.Max(length, 1) > LegacyHoleStart ? LegacyHoleEnd : cursor;

    /// <summary>
    /// The physical entry point. Like GRUB and QEMU, an e_entry inside a segment's virtual range
    /// is translated to that segment's physical address (a kernel linked to run at a virtual
    /// address, loaded with AT()); it must then be a 32-bit address, since the CPU starts in
    /// 32-bit protected mode without paging.
    /// </summary>
    private static uint EntryPoint(ElfImage elf, IReadOnlyList<ElfSegment> loads)
    {
        ulong entry = elf.Entry;
        foreach (var ph in loads)
        {
            if (entry >= ph.VirtualAddress && entry - ph.VirtualAddress < ph.MemorySize)
            {
                entry = entry - ph.VirtualAddress + ph.PhysicalAddress;
                break;
            }
        }
        if (entry > uint.MaxValue)
            throw new LoadError($"kernel entry point 0x{elf.Entry:x} is not a 32-bit physical address");
        return (uint)entry;
    }

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

    public static uint? FindPvhEntry(ElfImage elf)
    {
        try
        {
            foreach (var note in elf.Notes())
            {
                if (note.Name != "Xen" || note.Type != PvhStartInfo.Phys32EntryNote) continue;
                if (note.Descriptor.Length >= 8)
                {
                    ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(note.Descriptor);
                    if (entry > uint.MaxValue) throw new LoadError($"PVH entry point 0x{entry:x} is not a 32-bit physical address");
                    return (uint)entry;
                }
                if (note.Descriptor.Length >= 4) return BinaryPrimitives.ReadUInt32LittleEndian(note.Descriptor);
            }
        }
        catch (ElfFormatException e) { throw new LoadError($"kernel image: {e.Message}"); }
        return null;
    }
}
