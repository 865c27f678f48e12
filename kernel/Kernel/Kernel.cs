using System.Runtime.InteropServices;
using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Boot;
using HekiGuest.Kernel.Memory;
using HekiGuest.Kernel.SelfTests;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Kernel;

public static unsafe class KernelMain
{
    public const string Version = "0.1.0";

    // Required by the C# compiler for an executable; the real entry is kmain, called by boot.s.
    private static void Main() { }

    [UnmanagedCallersOnly(EntryPoint = "kmain")]
    private static void KMain(uint magic, uint info)
    {
        Machine.InitializeConsole();
        var c = Machine.Console;
        c.Line().Write("HekiGuest kernel ").Write(Version).Line(" (x86-64, C# compiled by NativeAOT ilc)");
        Idt.Install(0x08);
        CpuFeatures.Detect();

        BootInfo boot = BootInfoParser.Parse(magic, info);
        if (boot.Error != null) c.Write("boot: warning: ").Line(boot.Error);
        HeapSetup.ExtendFromMemoryMap(boot);
        BootPageTables.UnmapNullPage();
        Gdt.Install();
        Idt.Install(Gdt.KernelCode);
        PageTables.Build(boot);
        PageTables.Activate();
        Protections.Enable();
        Protections.Report(c);
        var cmdline = new CommandLine(boot.CommandLine);
        Heki.KernelHardening.Apply(boot, cmdline, c);
        Vtl.MonitorBoot.Start(boot, c, Heki.KernelHardening.Host != null && Heki.KernelHardening.Host.Present);
        Kexec.KexecBoot.Report(cmdline, c);
        c.Write("heap: ").Size(Heap.Capacity).Write(" in ").UDec((ulong)Heap.RegionCount).Line(" regions");

        var registry = new TestRegistry();
        registry.Add(new RuntimeTests());
        registry.Add(new BootTests(boot, cmdline));
        registry.Add(new SerialTests());
        registry.Add(new CpuTests());
        registry.Add(new PagingTests());
        registry.Add(new SealedTests());
        registry.Add(new HekiTests());
        registry.Add(new VtlTests(cmdline));
        registry.Add(new Vtl1WriteBench(cmdline));
        registry.Add(new RebootTests());
        registry.Add(new CrashTest(CrashTest.Kind.Panic, "crash.panic"));
        registry.Add(new CrashTest(CrashTest.Kind.Null, "crash.null"));
        registry.Add(new CrashTest(CrashTest.Kind.Bounds, "crash.bounds"));
        registry.Add(new CrashTest(CrashTest.Kind.Cast, "crash.cast"));
        registry.Add(new CrashTest(CrashTest.Kind.OutOfMemory, "crash.oom"));
        registry.Add(new CrashTest(CrashTest.Kind.StackCookie, "crash.cookie"));
        registry.Add(new CrashTest(CrashTest.Kind.DivideByZero, "crash.divzero"));
        registry.Add(new CrashTest(CrashTest.Kind.Hang, "crash.hang"));
        registry.Add(new CrashTest(CrashTest.Kind.TripleFault, "crash.triple"));
        registry.Add(new CrashTest(CrashTest.Kind.StackOverflow, "crash.stack"));

        Vtl.MonitorBoot.EndOfBoot();
        var t = new TestContext(c);
        registry.Run(t, cmdline.Get("tests"));
        t.Summary();
        Machine.Exit(t.Failed == 0 ? Machine.ExitPassed : Machine.ExitFailed);
    }
}
