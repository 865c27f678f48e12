using System.Runtime.InteropServices;
using HekiGuest.Abi;
using HekiGuest.Platform;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Heki;
using HekiGuest.Platform.Testing;
using HekiGuest.Sdk;

namespace CSharpMinimal;

// A minimal guest: it detects the host interface, pins its CR bits and protects its text through
// the SDK's default policy (GuestHardening), then checks that the host enforces both, in
// kvm-unit-tests lines. Exit: debug-exit status 0 (host exit code 1) when nothing failed. Without
// a host interface (QEMU) the host-enforcement checks SKIP and the guest still passes.
public static unsafe class Guest
{
    private const ulong PfWrite = 2;
    private static ulong s_value, s_target;

    // C# wants a Main in an executable; the boot stub calls guest_main (GUEST_ENTRY).
    private static void Main() { }

    [UnmanagedCallersOnly(EntryPoint = "guest_main")]
    private static void GuestMain(uint magic, uint info)
    {
        Machine.InitializeConsole();
        var c = Machine.Console;
        c.Line("csharp-minimal: a HekiGuest sample guest");
        // The platform's GDT and IDT: a fault inside FaultProbe.Run (and so in SealedHekiCpu's
        // Try* calls) resumes instead of stopping the machine.
        Gdt.Install();
        Idt.Install(Gdt.KernelCode);
        CpuFeatures.Detect();
        Protections.Enable();

        BootInfo boot = BootInfoParser.Parse(magic, info);
        var cmdline = new CommandLine(boot.CommandLine);
        PhysicalRegion* ram = stackalloc PhysicalRegion[BootInfo.MaxRegions];
        GuestImage image = ImageDescription.Describe(boot, ram);
        GuestHardening g = GuestHardening.Apply(new SealedHekiCpu(), cmdline.Get("heki.profile"), image, new TextOutReport(c));

        var t = new TestContext(c) { Group = "sample" };
        if (!g.Host.Present)
        {
            t.Skip("host interface detected", g.Host.Reason);
            t.Skip("clearing pinned CR0.WP faults", "no host interface");
            t.Skip("a write to the guest's own text faults", "no host interface");
        }
        else
        {
            t.Pass("host interface detected");
            ClearWp(t, g);
            WriteText(t, g);
        }
        t.Check((Native.ReadCr0() & ControlRegisters.Cr0Wp) != 0, "CR0.WP is set", "CR0.WP clear");
        t.Summary();
        Machine.Exit(t.Failed == 0 ? Machine.ExitPassed : Machine.ExitFailed);
    }

    private static void ClearWp(TestContext t, GuestHardening g)
    {
        if ((g.Cr0Pinned & HekiCrBits.Cr0Wp) == 0 || g.Cr0PinResult != 0)
        {
            t.Fail("clearing pinned CR0.WP faults", "CR0.WP was not pinned");
            return;
        }
        ulong cr0 = Native.ReadCr0();
        s_value = cr0 & ~ControlRegisters.Cr0Wp;
        FaultRecord r = FaultProbe.Run(&WriteCr0);
        t.Check(r.Faulted && r.Vector == 13 && Native.ReadCr0() == cr0, "clearing pinned CR0.WP faults", "no #GP or CR0 changed");
    }

    private static void WriteText(TestContext t, GuestHardening g)
    {
        if (g.MemoryResult != 0)
        {
            t.Fail("a write to the guest's own text faults", "the host refused the memory protection");
            return;
        }
        // The boot stub's identity map is writable: only the host can stop this write.
        s_target = LinkerSymbols.TextStart() + 0x100;
        byte before = *(byte*)s_target;
        FaultRecord r = FaultProbe.Run(&Poke);
        t.Check(r.Faulted && r.Vector == 14 && (r.ErrorCode & HekiDenial.PageFaultErrorBit) != 0 && (r.ErrorCode & PfWrite) != 0
            && r.Cr2 == s_target && *(byte*)s_target == before, "a write to the guest's own text faults", "the write was not denied by the host");
    }

    private static void WriteCr0() => SealedOps.WriteCr0(s_value);
    private static void Poke() => *(byte*)s_target = (byte)(*(byte*)s_target ^ 0xFF);
}
