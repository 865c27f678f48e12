using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// One seed's machine: a <see cref="VirtualMachine"/> with a <see cref="HekiHost"/> (profile heki,
/// denials injected) and the guest of <see cref="GuestLayout"/> written into its RAM: page tables,
/// GDT (64-, 32- and 16-bit code at DPL 0 and 3, data, TSS), TSS with RSP0 and IST1, an IDT of 256
/// interrupt gates on IST1, the handler text, the entry descriptor and random code for the seed's
/// mode. <see cref="Arm"/> runs the guest's boot stub, which pins the CR bits and protects memory.
/// </summary>
public sealed class FuzzGuest : IDisposable
{
    public FuzzGuest(long seed, FuzzMode mode, bool largeAliasWindow = true, byte[]? code = null)
    {
        Seed = seed;
        Mode = mode;
        Random = new SeedRandom(seed);
        Vm = new VirtualMachine(GuestLayout.MemorySize, _ => { });
        Host = new HekiHost(Vm, new HekiHostOptions { Profile = HekiHostProfile.Heki, OnDenial = DenialPolicy.Inject, Events = Events });
        WritePageTables(largeAliasWindow);
        WriteDescriptorTables();
        HandlerText.Bytes.CopyTo(Vm.Memory.Slice(GuestLayout.Text, HandlerText.Bytes.Length));
        WriteRodata();
        WriteRanges();
        var area = Vm.Memory.Slice(mode.CodeBase, GuestLayout.CodeSize);
        RandomCode.Fill(area, mode.Bitness, Random);
        if (code is not null)
        {
            if (code.Length > area.Length) throw new ArgumentException($"the code is longer than the code area ({GuestLayout.CodeSize} bytes)", nameof(code));
            area.Fill(0xCC);
            code.CopyTo(area);
            Code = code;
        }
        WriteU64(GuestLayout.LcgState, Random.NextU64());
    }

    public long Seed { get; }
    public FuzzMode Mode { get; }
    public SeedRandom Random { get; }
    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public HekiHost Host { get; }
    public DenialCounter Events { get; } = new();

    /// <summary>The repro bytes at the start of the code area, or null for random code.</summary>
    public byte[]? Code { get; }

    /// <summary>Wall-clock limit of the boot stub's run (a few dozen instructions).</summary>
    public static readonly TimeSpan ArmTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the boot stub at CPL 0 in 64-bit mode; null when the protections are armed
    /// as planned, else what went wrong.</summary>
    public string? Arm()
    {
        var cpu = Cpu;
        cpu.EnterFlatLongMode(GuestLayout.KernelCs64, GuestLayout.KernelDs);
        cpu.Cr3 = GuestLayout.Pml4;
        cpu.Gdtr = new DescriptorTableRegister { Base = GuestLayout.Gdt, Limit = GuestLayout.GdtLimit };
        cpu.Idtr = new DescriptorTableRegister { Base = GuestLayout.Idt, Limit = 0xFFF };
        cpu.Tr = new SegmentRegister { Selector = GuestLayout.TssSelector, Base = GuestLayout.Tss, Limit = 0x67, Attributes = 0x8B };
        cpu.Rflags = 0x2;
        cpu.WriteGpr(Processor.RSP, GuestLayout.KernelStackTop);
        cpu.Rip = HandlerText.Boot;
        cpu.FlushTlb();
        var outcome = Vm.Run(new RunLimits(ArmTimeout, 10_000));
        if (outcome.Kind != MachineStopKind.HaltedForever || cpu.Rip != HandlerText.BootEnd)
            return $"boot stub did not reach its HLT: {outcome.Kind} ({outcome.Summary}) at rip 0x{cpu.Rip:x}";
        long protect = (long)ReadU64(GuestLayout.BootResult);
        if (protect != 0) return $"PROTECT_MEMORY returned {protect}";
        if (ReadU64(HandlerText.PinWithHypercall) != 0 && (ReadU64(HandlerText.LockCr0Result) != 0 || ReadU64(HandlerText.LockCr4Result) != 0))
            return $"LOCK_CR returned {(long)ReadU64(HandlerText.LockCr0Result)} / {(long)ReadU64(HandlerText.LockCr4Result)}";
        return ProtectionSnapshot.CheckArmed(this);
    }

    /// <summary>Random GPRs (the handler's three saved registers too), then the CPU at the
    /// handler's restart point, which IRETQs to a random offset of the code in the seed's mode.</summary>
    public void Launch()
    {
        var cpu = Cpu;
        for (int r = 0; r < 16; r++) cpu.WriteGpr(r, InterestingValues.Next(Random));
        WriteU64(GuestLayout.SavedRax, InterestingValues.Next(Random));
        WriteU64(GuestLayout.SavedRcx, InterestingValues.Next(Random));
        WriteU64(GuestLayout.SavedRdx, InterestingValues.Next(Random));
        cpu.WriteGpr(Processor.RSP, GuestLayout.Ist1Top);
        cpu.Rflags = 0x2;
        cpu.Rip = HandlerText.Restart;
        if (Code is not null)
        {
            // straight to offset 0 in the seed's mode, as the handler's IRETQ would go there
            cpu.SetSegment(Processor.CS, Descriptor(Mode.CodeSelector));
            foreach (int seg in new[] { Processor.SS, Processor.DS, Processor.ES, Processor.FS, Processor.GS })
                cpu.SetSegment(seg, Descriptor(Mode.StackSelector));
            cpu.Rflags = ReadU64(GuestLayout.EntryRflags);
            cpu.WriteGpr(Processor.RSP, ReadU64(GuestLayout.EntryRsp));
            cpu.Rip = Mode.RipBase;
            cpu.FlushTlb();
        }
    }

    private SegmentRegister Descriptor(ushort selector) => SegmentRegister.FromDescriptor(selector, ReadU64(GuestLayout.Gdt + (ulong)(selector & ~7)));

    private void WritePageTables(bool largeAliasWindow)
    {
        WriteU64(GuestLayout.Pml4, GuestLayout.Pdpt | 7);
        WriteU64(GuestLayout.Pdpt, GuestLayout.Pd | 7);
        if (largeAliasWindow) WriteU64(GuestLayout.Pdpt + 8, GuestLayout.PdAlias | 7);
        WriteU64(GuestLayout.Pd, GuestLayout.Pt0 | 7);
        WriteU64(GuestLayout.Pd + 8, GuestLayout.Pt1 | 7);
        WriteU64(GuestLayout.Pd + 16, GuestLayout.Heap | 0x83);                     // 2 MiB, supervisor, writable
        for (ulong i = 0; i < 512; i++)
        {
            ulong page = i << 12;
            ulong pte = page == 0 ? 0 : page == GuestLayout.OutsideRamWindow ? GuestLayout.OutsideRamPhysical | 3 : page | 3;
            WriteU64(GuestLayout.Pt0 + i * 8, pte);                                   // supervisor, writable, executable
            WriteU64(GuestLayout.Pt1 + i * 8, (0x200000 + page) | 7);                 // user, writable, executable
            WriteU64(GuestLayout.PdAlias + i * 8, GuestLayout.Heap | 0x83);           // the heap, 512 times
        }
    }

    private void WriteDescriptorTables()
    {
        ulong gdt = GuestLayout.Gdt;
        WriteU64(gdt + 0x08, 0x00AF_9A00_0000_FFFFUL);                                // kernel code 64
        WriteU64(gdt + 0x10, 0x00CF_9200_0000_FFFFUL);                                // kernel data
        WriteU64(gdt + 0x18, 0x00CF_9A00_0000_FFFFUL);                                // kernel code 32
        WriteU64(gdt + 0x20, CodeSegment16(GuestLayout.KernelCode, dpl: 0));          // kernel code 16, based at the kernel code area
        WriteU64(gdt + 0x28, 0x00CF_F200_0000_FFFFUL);                                // user data
        WriteU64(gdt + 0x30, 0x00AF_FA00_0000_FFFFUL);                                // user code 64
        WriteU64(gdt + 0x38, 0x00CF_FA00_0000_FFFFUL);                                // user code 32
        WriteU64(gdt + 0x40, CodeSegment16(GuestLayout.UserCode, dpl: 3));            // user code 16, based at the user code area
        ulong tss = GuestLayout.Tss;
        WriteU64(gdt + 0x48, 0x67UL | ((tss & 0xFF_FFFF) << 16) | (0x89UL << 40) | (((tss >> 24) & 0xFF) << 56));
        WriteU64(gdt + 0x50, tss >> 32);
        WriteU64(tss + 4, GuestLayout.Rsp0Top);
        WriteU64(tss + 36, GuestLayout.Ist1Top);
        for (int v = 0; v < 256; v++)
        {
            ulong target = HandlerText.Stub(v);
            int dpl = v is 3 or 4 or 0x80 ? 3 : 0;
            ulong lo = (target & 0xFFFF) | ((ulong)GuestLayout.KernelCs64 << 16) | (1UL << 32)
                | ((ulong)(0xE | (dpl << 5) | 0x80) << 40) | (((target >> 16) & 0xFFFF) << 48);
            WriteU64(GuestLayout.Idt + (ulong)v * 16, lo);
            WriteU64(GuestLayout.Idt + (ulong)v * 16 + 8, target >> 32);
        }
    }

    private static ulong CodeSegment16(ulong baseAddress, int dpl) =>
        0xFFFFUL | ((baseAddress & 0xFF_FFFF) << 16) | ((ulong)(0x9A | (dpl << 5)) << 40) | (((baseAddress >> 24) & 0xFF) << 56);

    private void WriteRodata()
    {
        var rodata = Vm.Memory.Slice(GuestLayout.Rodata, 4096);
        for (int i = 0; i < rodata.Length; i++) rodata[i] = Random.NextByte();
        // The first 32 qwords look like page-table entries (present, writable, user, accessed clear,
        // naming a page of RAM) three times out of four, as a kernel's rodata may hold tables of
        // physical addresses: a guest that points a paging structure at this page gets walks that
        // complete, so a page walker that writes accessed/dirty bits here is seen.
        for (ulong q = 0; q < 32; q++)
        {
            if (Random.Chance(75)) WriteU64(GuestLayout.Rodata + q * 8, ((Random.NextU64() % GuestLayout.MemorySize) & ~0xFFFUL) | 7);
        }
        var mode = Mode;
        WriteU64(GuestLayout.EntryCs, mode.CodeSelector);
        WriteU64(GuestLayout.EntrySs, mode.StackSelector);
        WriteU64(GuestLayout.EntryDs, mode.StackSelector);
        WriteU64(GuestLayout.EntryRsp, Random.Chance(85) ? mode.StackTop : InterestingValues.Next(Random));
        ulong flags = 0x202;
        if (Random.Chance(20)) flags |= 0x400;                     // DF
        if (Random.Chance(20)) flags |= 0x4_0000;                  // AC (at CPL 0: SMAP checks off for explicit accesses)
        WriteU64(GuestLayout.EntryRflags, flags);
        WriteU64(GuestLayout.EntryRipBase, mode.RipBase);
        WriteU64(GuestLayout.EntryMask, GuestLayout.CodeSize - 1);
        WriteU64(HandlerText.PinWithHypercall, Random.Chance(50) ? 1UL : 0UL);
    }

    private void WriteRanges()
    {
        var ranges = ProtectionPlan.Ranges;
        for (int i = 0; i < ranges.Length; i++)
        {
            ulong at = GuestLayout.RangeArray + (ulong)i * 24;
            WriteU64(at, ranges[i].Gpa);
            WriteU64(at + 8, ranges[i].Pages);
            WriteU64(at + 16, ranges[i].Permissions);
        }
    }

    public ulong ReadU64(ulong physical) => BinaryPrimitives.ReadUInt64LittleEndian(Vm.Memory.Slice(physical, 8));

    public void WriteU64(ulong physical, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Vm.Memory.Slice(physical, 8), value);

    public void Dispose() => Vm.Dispose();
}
