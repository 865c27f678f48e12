using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// The memory image of one or more address-contiguous executable PT_LOAD segments: file bytes plus
/// zero fill up to each segment's memory size. Decoding runs over a whole region, so an encoding that
/// straddles two adjacent segments is still seen.
/// </summary>
public sealed class ExecutableRegion
{
    private ExecutableRegion(ulong start, byte[] bytes, IReadOnlyList<ElfSegment> segments)
    {
        Start = start;
        Bytes = bytes;
        Segments = segments;
    }

    public ulong Start { get; }
    public byte[] Bytes { get; }
    public IReadOnlyList<ElfSegment> Segments { get; }
    public AddressRange Range => new(Start, Start + (ulong)Bytes.Length);

    public int OffsetOf(ulong address) => checked((int)(address - Start));

    public ElfSegment SegmentAt(ulong address) =>
        Segments.FirstOrDefault(s => address >= s.VirtualAddress && address < s.EndAddress) ?? Segments[0];

    /// <summary>Builds the regions of every executable PT_LOAD segment, merging address-adjacent ones.</summary>
    public static IReadOnlyList<ExecutableRegion> Build(ElfImage elf)
    {
        List<ElfSegment> executable = [.. elf.Segments
            .Where(s => s.IsLoad && s.IsExecutable && s.MemorySize > 0)
            .OrderBy(s => s.VirtualAddress)];
        if (executable.Count == 0)
        {
            throw new KernelContractException("no executable PT_LOAD segment (no PF_X program header)");
        }

        const ulong MaxRegionBytes = 64UL << 20;
        if (executable.FirstOrDefault(s => s.MemorySize > MaxRegionBytes) is { } huge)
        {
            throw new KernelContractException($"executable segment {huge.Name} spans 0x{huge.MemorySize:x} bytes, more than the 64 MiB this tool accepts");
        }

        var regions = new List<ExecutableRegion>();
        int first = 0;
        while (first < executable.Count)
        {
            int last = first;
            while (last + 1 < executable.Count && executable[last + 1].VirtualAddress <= executable[last].EndAddress)
            {
                if (executable[last + 1].VirtualAddress < executable[last].EndAddress)
                {
                    throw new KernelContractException($"executable segments {executable[last].Name} and {executable[last + 1].Name} overlap");
                }

                last++;
            }

            ulong start = executable[first].VirtualAddress;
            ulong length = executable[last].EndAddress - start;
            if (length > MaxRegionBytes)
            {
                throw new KernelContractException($"executable segments from {executable[first].Name} span 0x{length:x} bytes, more than the 64 MiB this tool accepts");
            }

            var bytes = new byte[length];
            for (int i = first; i <= last; i++)
            {
                ElfSegment segment = executable[i];
                elf.FileBytes(segment.Offset, segment.FileSize).CopyTo(bytes.AsSpan((int)(segment.VirtualAddress - start)));
            }

            regions.Add(new ExecutableRegion(start, bytes, executable.GetRange(first, last - first + 1)));
            first = last + 1;
        }

        return regions;
    }
}
