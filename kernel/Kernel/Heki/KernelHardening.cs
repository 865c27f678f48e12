using HekiGuest.Abi;
using HekiGuest.Kernel.Arch;
using HekiGuest.Kernel.Boot;
using HekiGuest.Kernel.Drivers;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.Heki;

// Asks the host to enforce what the kernel already enforces itself: pins CR0.WP and
// CR4.SMEP/SMAP/UMIP (those in use), makes text and the sealed section R+X immutable, rodata R
// immutable, and every other page of RAM R+W (never X) immutable. Runs once, right after the
// kernel's own page tables and protection bits are in place.
public static unsafe class KernelHardening
{
    public static HekiHostInterface Host;
    public static KernelHekiCpu Cpu;
    public static CrPinner Pinner;
    public static MemoryProtector Protector;
    public static long Cr0PinResult = HekiError.NotSupported, Cr4PinResult = HekiError.NotSupported, MemoryResult = HekiError.NotSupported;
    public static ulong Cr0Pinned, Cr4Pinned;
    public static int RangeCount;

    public static void Apply(BootInfo boot, CommandLine cmdline, TextOut o)
    {
        Cpu = new KernelHekiCpu();
        Host = HekiHostInterface.Detect(Cpu, cmdline.Get("heki.profile"));
        Pinner = new CrPinner(Cpu, Host);
        Protector = new MemoryProtector(Cpu, Host);
        if (!Host.Present)
        {
            o.Write("heki: ").Write(Host.Reason).Line("; every protection is guest-enforced only");
            return;
        }
        o.Write("heki: host interface ").Write(ProfileName(Host.Profile)).Write(" version ").UDec(Host.Version)
            .Write(", features ").Hex(Host.Features).Line();

        if (Pinner.CanPin)
        {
            Cr0Pinned = Protections.Wp ? HekiCrBits.Cr0Wp & Pinner.Allowed(0) : 0;
            ulong cr4 = (Protections.Smep ? HekiCrBits.Cr4Smep : 0) | (Protections.Smap ? HekiCrBits.Cr4Smap : 0) | (Protections.Umip ? HekiCrBits.Cr4Umip : 0);
            Cr4Pinned = cr4 & Pinner.Allowed(4);
            Cr0PinResult = Cr0Pinned != 0 ? Pinner.PinHigh(0, Cr0Pinned) : HekiError.Success;
            Cr4PinResult = Cr4Pinned != 0 ? Pinner.PinHigh(4, Cr4Pinned) : HekiError.Success;
        }
        if (Protector.Available) MemoryResult = ProtectMemory(boot);
        Report(o);
    }

    private static long ProtectMemory(BootInfo boot)
    {
        HekiRange* r = stackalloc HekiRange[BootInfo.MaxRegions + 8];
        int n = 0;
        ulong text = LinkerSymbols.KernelStart(), textEnd = LinkerSymbols.TextEnd();
        ulong sealedStart = LinkerSymbols.SealedStart(), sealedEnd = LinkerSymbols.SealedEnd();
        ulong ro = LinkerSymbols.RodataStart(), roEnd = LinkerSymbols.RodataEnd();
        Add(r, ref n, text, textEnd, HekiPermission.Read | HekiPermission.Execute | HekiPermission.Immutable);
        Add(r, ref n, sealedStart, sealedEnd, HekiPermission.Read | HekiPermission.Execute | HekiPermission.Immutable);
        Add(r, ref n, ro, roEnd, HekiPermission.Read | HekiPermission.Immutable);
        // Every usable RAM page outside text, sealed and rodata: R+W, never executable.
        for (int i = 0; i < boot.RegionCount; i++)
        {
            if (boot.Regions[i].Type != MemoryType.Usable) continue;
            ulong start = (boot.Regions[i].Base + 0xFFF) & ~0xFFFUL;
            ulong end = (boot.Regions[i].Base + boot.Regions[i].Length) & ~0xFFFUL;
            if (end > BootInfo.IdentityMapLimit) end = BootInfo.IdentityMapLimit;
            AddExcluding(r, ref n, start, end, text, roEnd);
        }
        RangeCount = n;
        return Protector.Protect(r, n);
    }

    private static void AddExcluding(HekiRange* r, ref int n, ulong start, ulong end, ulong holeStart, ulong holeEnd)
    {
        const ulong rw = HekiPermission.Read | HekiPermission.Write | HekiPermission.Immutable;
        if (end <= holeStart || start >= holeEnd) { Add(r, ref n, start, end, rw); return; }
        if (start < holeStart) Add(r, ref n, start, holeStart, rw);
        if (end > holeEnd) Add(r, ref n, holeEnd, end, rw);
    }

    private static void Add(HekiRange* r, ref int n, ulong start, ulong end, ulong permissions)
    {
        if (end <= start) return;
        r[n].GuestPhysicalStart = start;
        r[n].PageCount = (end - start) >> 12;
        r[n].Permissions = permissions;
        n++;
    }

    public static string ProfileName(HekiProfile p) => p switch
    {
        HekiProfile.Heki => "HekiGuest ABI",
        HekiProfile.CrPin2020 => "cr-pin-2020 (compat)",
        HekiProfile.HekiV3 => "heki-v3 (compat)",
        _ => "none",
    };

    private static void Report(TextOut o)
    {
        Line(o, "CR0.WP pinned", Cr0Pinned != 0 && Cr0PinResult == 0, Cr0PinResult);
        Line(o, "CR4.SMEP/SMAP/UMIP pinned", Cr4Pinned != 0 && Cr4PinResult == 0, Cr4PinResult);
        Line(o, "kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable", MemoryResult == 0, MemoryResult);
    }

    private static void Line(TextOut o, string what, bool hostEnforced, long error)
    {
        o.Write("heki: ").Write(what).Write(": ");
        if (hostEnforced) o.Line("host-enforced");
        else { o.Write("guest-only (host said ").Dec(error).Line(")"); }
    }
}
