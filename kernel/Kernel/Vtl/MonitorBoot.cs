using HekiGuest.Abi;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Drivers;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.Vtl;

// Starting the guest's own VTL1 monitor (docs/vtl.md section 15, docs/architecture.md): on a
// VSM host the kernel checks the embedded monitor's digest, places it in the memory HeapSetup
// reserved, enables the hypercall page, EnablePartitionVtl + EnableVpVtl with a 32-bit flat
// initial context at the monitor's boot stub, and makes the first VTL call, init, which the
// monitor answers only after it has hidden its own pages from VTL0. Anywhere else nothing of
// this runs and the kernel boots as before. Kernel lines say "monitor:"; the monitor's "vtl1:".
public static unsafe class MonitorBoot
{
    /// <summary>"vtl1" (monitor running), "host" (HekiGuest host interface) or "guest-only".</summary>
    public static string Mode = "guest-only";
    /// <summary>Why the monitor does not run (null when it does).</summary>
    public static string Reason = "monitor start not attempted";
    public static long InitStatus = MonitorStatus.NoMonitor, EndOfBootStatus = MonitorStatus.NoMonitor, LockStatus = MonitorStatus.NoMonitor;
    /// <summary>The CR bits VTL1 pins for the kernel: CR0.WP, PE, PG; CR4.SMEP/SMAP/UMIP where set.</summary>
    public static ulong Cr0Locked, Cr4Locked;
    public static ulong InitVersion, Low, High, RamEnd, HvFailure;

    private const ulong GuestOsId = 0x8000_4845_4B49_0001;   // bit 63: open source; "HEKI", build 1

    /// <summary>The range to keep out of the kernel heap: the monitor's, from its ELF headers.</summary>
    public static bool Reserved(out ulong low, out ulong high) => MonitorImage.Describe(out low, out high, out _) == null;

    public static void Start(BootInfo boot, TextOut c, bool hekiHost)
    {
        Mode = hekiHost ? "host" : "guest-only";
        Reason = TryStart(boot, c);
        if (Reason == null)
        {
            Mode = "vtl1";
            VtlCall.MonitorRunning = true;
            c.Write("monitor: VTL1 monitor ").Hex(InitVersion).Write(" answered init; its memory ").Hex(Low).Write('-').Hex(High).Line(" is VTL1's");
            Cr0Locked = ControlRegisters.Cr0Pe | ControlRegisters.Cr0Wp | ControlRegisters.Cr0Pg;
            Cr4Locked = Native.ReadCr4() & (ControlRegisters.Cr4Smep | ControlRegisters.Cr4Smap | ControlRegisters.Cr4Umip);
            LockStatus = VtlCall.Call(MonitorCall.LockRegisters, Cr0Locked, Cr4Locked, 0, out _, out _);
            c.Write("monitor: CR0 bits ").Hex(Cr0Locked).Write(" and CR4 bits ").Hex(Cr4Locked)
                .Line(LockStatus == MonitorStatus.Success ? " locked by VTL1" : " NOT locked: the monitor refused");
            MemoryProtection.Apply(c);
            SealedHandOver.Run(c);
        }
        else
        {
            if (HvFailure != 0) c.Write("monitor: HV status ").Hex(HvFailure).Line();
            c.Write("monitor: not started: ").Line(Reason);
        }
        c.Write("boot: mode ").Line(Mode);
    }

    /// <summary>The kernel's boot is over: boot-only monitor calls are refused from now on.</summary>
    public static void EndOfBoot()
    {
        if (!VtlCall.MonitorRunning) return;
        EndOfBootStatus = VtlCall.Call(MonitorCall.EndOfBoot, 0, 0, 0, out _, out _);
    }

    private static string TryStart(BootInfo boot, TextOut c)
    {
        string why = VsmDiscovery.Check();
        if (why != null) return why;
        if (!MonitorImage.DigestMatches()) return "the embedded monitor's SHA-256 is not the digest built into the kernel: refusing to start it";
        why = MonitorImage.Describe(out ulong low, out ulong high, out ulong entry);
        if (why != null) return "bad monitor image: " + why;
        RamEnd = UsableEnd(boot);
        if (!InsideUsableRam(boot, low, high)) return "the monitor's memory is not usable RAM (too little memory?)";
        Low = low;
        High = high;
        MonitorImage.Load(low, high);

        // The hypercall page (host-filled), then the two enables.
        byte* hypercallPage = Heap.AllocatePages(1);
        byte* input = Heap.AllocatePages(1);
        SealedOps.WriteMsr(HvMsr.GuestOsId, GuestOsId);
        SealedOps.WriteMsr(HvMsr.Hypercall, (ulong)hypercallPage | HvMsr.Enable);

        Zero(input, 4096);
        *(ulong*)input = HvCall.PartitionSelf;
        input[8] = 1;
        ushort st = Status(VtlCall.Hypercall(HvCall.EnablePartitionVtl, (ulong)input, 0));
        if (st != HvStatus.Success) { HvFailure = st; return "EnablePartitionVtl failed, HV status on the line above"; }

        Zero(input, 4096);
        *(ulong*)input = HvCall.PartitionSelf;
        *(uint*)(input + 8) = HvCall.VpSelf;
        input[12] = 1;
        BuildInitialContext(input + 16, entry);
        st = Status(VtlCall.Hypercall(HvCall.EnableVpVtl, (ulong)input, 0));
        if (st != HvStatus.Success) { HvFailure = st; return "EnableVpVtl failed, HV status on the line above"; }

        InitStatus = VtlCall.Start(RamEnd >> 12, out InitVersion);
        if (InitStatus != MonitorStatus.Success) return "the monitor refused init";
        if (InitVersion != MonitorAbi.Version) return "the monitor answered init with another version";
        return null;
    }

    // VTL1 starts like a multiboot loader starts a guest: 32-bit protected mode, paging off,
    // flat 4 GiB segments, at the image's entry (the platform boot stub builds the rest).
    private static void BuildInitialContext(byte* ctx, ulong entry)
    {
        *(ulong*)(ctx + 0) = entry;
        *(ulong*)(ctx + 8) = 0;
        *(ulong*)(ctx + 16) = 2;
        // CS, DS, ES, FS, GS, SS, TR, LDTR: {u64 base; u32 limit; u16 selector; u16 attributes}
        for (int i = 0; i < 8; i++)
        {
            byte* s = ctx + 24 + 16 * i;
            *(ulong*)s = 0;
            *(uint*)(s + 8) = i < 6 ? 0xFFFFFFFF : 0xFFFF;
            *(ushort*)(s + 12) = i == 0 ? MonitorAbi.BootCodeSelector : i < 6 ? MonitorAbi.BootDataSelector : (ushort)0;
            *(ushort*)(s + 14) = i == 0 ? MonitorAbi.BootCodeAttributes : i < 6 ? MonitorAbi.BootDataAttributes : i == 6 ? (ushort)0x8B : (ushort)0x82;
        }
        // IDTR, GDTR: empty (the boot stub loads its own GDT; interrupts stay off)
        *(ulong*)(ctx + 184) = 0;                       // EFER
        *(ulong*)(ctx + 192) = 0x11;                    // CR0: PE | ET
        *(ulong*)(ctx + 200) = 0;                       // CR3
        *(ulong*)(ctx + 208) = 0;                       // CR4
        *(ulong*)(ctx + 216) = 0x0007040600070406;      // PAT: power-on value
    }

    private static ulong UsableEnd(BootInfo b)
    {
        ulong end = 0;
        for (int i = 0; i < b.RegionCount; i++)
            if (b.Regions[i].Type == MemoryType.Usable && b.Regions[i].Base + b.Regions[i].Length > end)
                end = b.Regions[i].Base + b.Regions[i].Length;
        if (end > BootInfo.IdentityMapLimit) end = BootInfo.IdentityMapLimit;
        return end & ~0xFFFUL;
    }

    private static bool InsideUsableRam(BootInfo b, ulong low, ulong high)
    {
        for (int i = 0; i < b.RegionCount; i++)
            if (b.Regions[i].Type == MemoryType.Usable && b.Regions[i].Base <= low && b.Regions[i].Base + b.Regions[i].Length >= high)
                return high <= BootInfo.IdentityMapLimit;
        return false;
    }

    private static ushort Status(ulong result) => (ushort)(result & HvHypercallInput.StatusMask);

    private static void Zero(byte* p, int n)
    {
        for (int i = 0; i < n; i++) p[i] = 0;
    }
}
