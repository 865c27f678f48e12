using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Paging;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>
/// A CPU with a <see cref="PagingTranslator"/> over 4 MiB of RAM whose control registers, EFER,
/// RFLAGS.AC and CPL (the DPL of CS) the test sets, for calling TryTranslate directly.
/// </summary>
internal sealed class PagingRig : IDisposable
{
    public const ulong RamSize = 4 << 20;

    public PagingRig()
    {
        Memory = new PhysicalMemory(RamSize);
        Translator = new PagingTranslator(Memory);
        Cpu = new Processor(Memory, Translator);
        Translator.Attach(Cpu);
        Tables = new PageTableBuilder(Memory);
        MaxPhysAddr = (int)(Cpu.Cpuid.Query(Cpu, 0x8000_0008, 0).Eax & 0xFF);
        Page1G = (Cpu.Cpuid.Query(Cpu, 0x8000_0001, 0).Edx & (1u << 26)) != 0;
    }

    public PhysicalMemory Memory { get; }
    public PagingTranslator Translator { get; }
    public Processor Cpu { get; }
    public PageTableBuilder Tables { get; }

    /// <summary>MAXPHYADDR as the CPU's own CPUID reports it.</summary>
    public int MaxPhysAddr { get; }

    /// <summary>Whether the CPU's CPUID advertises 1 GiB pages.</summary>
    public bool Page1G { get; }

    /// <summary>Long mode with 4-level paging, CR3 at the PML4, and the given WP/SMEP/SMAP/AC/NXE/CPL.</summary>
    public void Enter(PagingContext c)
    {
        Cpu.EnterFlatLongMode();
        Cpu.Cr3 = PageTableBuilder.Pml4;
        Cpu.Cr0 = 0x8000_0011UL | (c.Wp ? 1UL << 16 : 0);
        Cpu.Cr4 = 0x20UL | (c.Smep ? 1UL << 20 : 0) | (c.Smap ? 1UL << 21 : 0);
        Cpu.Efer = 0x500UL | (c.Nxe ? 0x800UL : 0);
        Cpu.Rflags = 0x2UL | (c.Ac ? 1UL << 18 : 0);
        var cs = new SegmentRegister
        {
            Selector = (ushort)(c.Cpl == 3 ? 0x2B : 0x08),
            Attributes = (ushort)(0xA09B | (c.Cpl << 5)),
            Limit = 0xFFFF_FFFF,
        };
        Cpu.SetSegment(Processor.CS, cs);
        if (Cpu.Cpl != c.Cpl) throw new InvalidOperationException($"CPL is {Cpu.Cpl}, wanted {c.Cpl}");
    }

    public PagingVerdict Translate(ulong linear, AccessKind kind, int size = 1)
    {
        bool ok = Translator.TryTranslate(linear, kind, size, Cpu.Cpl, out ulong physical, out var fault);
        if (ok) return PagingVerdict.Translates(physical);
        return new PagingVerdict(false, 0, fault.Vector, fault.HasErrorCode ? fault.ErrorCode : 0);
    }

    public PagingVerdict Expect(IReadOnlyList<ulong> entries, ulong linear, AccessKind kind, PagingContext c) =>
        PagingOracle.Evaluate(entries, linear, kind, c, MaxPhysAddr, Page1G, RamSize);

    public void Dispose() => Memory.Dispose();
}
