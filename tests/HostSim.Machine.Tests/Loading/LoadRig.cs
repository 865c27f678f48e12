using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>
/// Fresh guest RAM (every byte 0xCC first, so untouched and zeroed bytes can be told apart) with
/// a kernel loaded into it, plus the standard test images: text at 1 MiB that starts with the
/// boot header, data at 0x102000 with .bss up to <see cref="ImageEnd"/> (not page-aligned on purpose).
/// </summary>
internal sealed class LoadRig : IDisposable
{
    public const ulong TextAt = 0x100000, DataAt = 0x102000, DataMemorySize = 0x2F10;
    public const ulong ImageEnd = DataAt + DataMemorySize;        // 0x104F10
    public const ulong DefaultMemory = 8 << 20;
    public static readonly byte[] Data = Pattern(300, 17);
    public static readonly ModuleSpec ModuleA = new(Pattern(5000, 3), "initrd root=/dev/ram");
    public static readonly ModuleSpec ModuleB = new(Pattern(3, 9), "b");

    public LoadRig(byte[] image, string commandLine = "", IReadOnlyList<ModuleSpec>? modules = null,
        BootProtocol protocol = BootProtocol.Auto, ulong memory = DefaultMemory)
    {
        Memory = new PhysicalMemory(memory);
        try
        {
            for (ulong at = 0; at < memory; at += 1 << 20) Memory.Slice(at, (int)Math.Min(1UL << 20, memory - at)).Fill(0xCC);
            Kernel = KernelLoader.Load(image, Memory, commandLine, modules ?? [], protocol);
        }
        catch
        {
            Memory.Dispose();
            throw;
        }
        Bytes = new GuestBytes(Memory);
    }

    public PhysicalMemory Memory { get; }
    public LoadedKernel Kernel { get; }
    public GuestBytes Bytes { get; }

    /// <summary>The text segment of an image: the header, then a recognisable pattern.</summary>
    public static byte[] Text(byte[] header) => [.. header, .. Pattern(200, 1)];

    public static byte[] Multiboot2Image(bool withPvhNote = false)
    {
        var b = new ElfImageBuilder(elf64: true) { Entry = TextAt + 24 }
            .Load(TextAt, Text(ElfImageBuilder.Multiboot2Header()))
            .Load(DataAt, Data, DataMemorySize);
        if (withPvhNote) b.PvhNote((uint)TextAt + 0x40);
        return b.Build();
    }

    public static byte[] PvhImage(uint entry = (uint)TextAt + 0x40, int descriptorBytes = 4) =>
        new ElfImageBuilder(elf64: true) { Entry = TextAt }
            .Load(TextAt, Text([]))
            .Load(DataAt, Data, DataMemorySize)
            .PvhNote(entry, descriptorBytes)
            .Build();

    public static byte[] Multiboot1Image() =>
        new ElfImageBuilder(elf64: false) { Entry = TextAt + 12 }
            .Load(TextAt, Text(ElfImageBuilder.Multiboot1Header()))
            .Load(DataAt, Data, DataMemorySize)
            .Build();

    public static byte[] Pattern(int length, int seed) =>
        Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed * 7 + 1)).ToArray();

    public void Dispose() => Memory.Dispose();
}
