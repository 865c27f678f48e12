namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// Where everything of a fuzz guest lives (6 MiB of RAM; identity-mapped below 4 MiB through 4 KiB
/// pages, the heap through one 2 MiB page, and a 1 GiB window that maps the heap 512 times, a
/// stand-in for a large kernel's direct map). The guest's own page tables are deliberately
/// permissive (every present page writable and executable, the 2-4 MiB half user-accessible):
/// every protection the fuzzer checks rests on the host layer alone. The host permission map
/// names every page of RAM, all IMMUTABLE, so it must never change:
/// <list type="table">
/// <item>0x0000-0x7FFF: null page (not present), page tables (R+W, as in ABI version 1)</item>
/// <item>0x8000-0xBFFF: "rodata" (R IMMUTABLE): a random pattern and the entry descriptor, GDT, IDT, TSS</item>
/// <item>0x10000-0x11FFF: "kernel text" (R+X IMMUTABLE): 256 exception stubs, the recovery handler, the boot stub</item>
/// <item>0x20000-0x2FFFF: kernel data (R+W): handler scratch, IST1 / RSP0 / kernel stacks</item>
/// <item>0x30000-0x37FFF: kernel random code (R+X IMMUTABLE; CPL 0 seeds)</item>
/// <item>0x200000-0x207FFF: user random code (R+W+X IMMUTABLE; CPL 3 seeds, so user code may rewrite itself)</item>
/// <item>everything else: R+W, never X</item>
/// </list>
/// </summary>
public static class GuestLayout
{
    public const ulong MemorySize = 6UL << 20;

    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Pt0 = 0x4000, Pt1 = 0x5000, PdAlias = 0x6000;
    public const ulong PageTablesEnd = 0x8000;

    public const ulong Rodata = 0x8000, RodataPages = 4;
    public const ulong EntryDescriptor = 0x8100;
    public const ulong Gdt = 0x9000, Idt = 0xA000, Tss = 0xB000;
    public const ushort GdtLimit = 0x57;

    /// <summary>Linear page mapped onto guest-physical memory beyond RAM (accesses there are #MC).</summary>
    public const ulong OutsideRamWindow = 0xF000, OutsideRamPhysical = 0x7FFF_F000;

    public const ulong Text = 0x10000, TextPages = 2;
    public const ulong StubsEnd = 0x11000;

    public const ulong KernelData = 0x20000;
    public const ulong SavedRax = KernelData + 0x00, SavedRcx = KernelData + 0x08, SavedRdx = KernelData + 0x10;
    public const ulong LcgState = KernelData + 0x18, HandlerCount = KernelData + 0x20, BootResult = KernelData + 0x28;
    public const ulong VectorCounts = KernelData + 0x100;       // 256 x 8 bytes
    public const ulong RangeArray = KernelData + 0x900;
    public const ulong Ist1Top = 0x25000, Rsp0Top = 0x29000, KernelStackTop = 0x30000;

    public const ulong KernelCode = 0x30000;
    public const ulong UserCode = 0x200000;
    public const int CodePages = 8;
    public const int CodeSize = CodePages * 4096;
    public const ulong UserData = 0x208000, UserStackTop = 0x220000;

    public const ulong Heap = 0x400000, HeapSize = 2UL << 20;
    public const ulong AliasWindow = 0x4000_0000, AliasWindowSize = 1UL << 30;

    // GDT selectors.
    public const ushort KernelCs64 = 0x08, KernelDs = 0x10, KernelCs32 = 0x18, KernelCs16 = 0x20;
    public const ushort UserDs = 0x2B, UserCs64 = 0x33, UserCs32 = 0x3B, UserCs16 = 0x43, TssSelector = 0x48;

    /// <summary>Entry descriptor fields (rodata): where the recovery handler sends the guest.</summary>
    public const ulong EntryCs = EntryDescriptor + 0x00, EntrySs = EntryDescriptor + 0x08, EntryDs = EntryDescriptor + 0x10,
        EntryRsp = EntryDescriptor + 0x18, EntryRflags = EntryDescriptor + 0x20, EntryRipBase = EntryDescriptor + 0x28,
        EntryMask = EntryDescriptor + 0x30;

    public static ulong CodeBase(int cpl) => cpl == 0 ? KernelCode : UserCode;
}
