using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HekiGuest.Abi;
using HekiGuest.Platform;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;
using Internal.Runtime;

namespace HekiGuest.Vtl1Monitor;

// The monitor's entry. The kernel starts VTL1 at the image's 32-bit entry (the platform boot
// stub) with its first VTL call, init: EAX = MonitorCall.Init, EBX = VTL0's RAM end in pages.
// Init hides the monitor's memory from VTL0 before anything returns to VTL0, then answers init
// and serves VTL calls and intercepts for ever. Booted any other way it stops at once.
public static unsafe class MonitorMain
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_monitor_set_assist")]
    private static extern void SetAssist(ulong page);
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_monitor_frame_capture")]
    private static extern void CaptureFrame();

    private const uint ActiveVtlMask = 0xF;
    // bit 63: open source; "HEKI"; build 0x1001 (the kernel is build 1)
    private const ulong GuestOsId = 0x8000_4845_4B49_1001;

    // C# wants a Main in an executable; the boot stub calls monitor_main.
    private static void Main() { }

    [UnmanagedCallersOnly(EntryPoint = "monitor_main")]
    private static void Start(uint magic, uint info)
    {
        Machine.InitializeConsole();
        Machine.Console = new TextOut(new PrefixedSink(Machine.Serial, "vtl1: "));
        var c = Machine.Console;
        if (magic != MonitorCall.Init)
        {
            c.Write("not started by a VTL0 init call (EAX=").Hex(magic).Line("): the monitor runs only in VTL1, started by the kernel");
            Machine.Exit(Machine.ExitPanic);
        }
        // Its own GDT and IDT: a fault in VTL1 is reported (prefixed) and stops the machine.
        Gdt.Install();
        Idt.Install(Gdt.KernelCode);

        ulong start = LinkerSymbols.ImageStart(), end = LinkerSymbols.ImageEnd();
        Vtl0Memory.MonitorStart = start;
        Vtl0Memory.MonitorEnd = end;
        Vtl0Memory.RamEnd = (ulong)info << 12;
        if (Vtl0Memory.RamEnd < end) Stop("the RAM end VTL0 gave lies below the monitor", Vtl0Memory.RamEnd);

        byte* assist = Heap.AllocatePages(1);
        byte* io = Heap.AllocatePages(1);
        byte* hypercallPage = Heap.AllocatePages(1);
        // The synthetic MSRs are VTL1's own (docs/vtl.md section 2): VTL1 identifies itself and
        // enables its own hypercall page (never executed: the monitor issues VMCALL itself) before
        // its first hypercall, and its own VP assist page, which VTL0 cannot move.
        Native.SealedWriteMsr(HvMsr.GuestOsId, GuestOsId);
        Native.SealedWriteMsr(HvMsr.Hypercall, (ulong)hypercallPage | HvMsr.Enable);
        HvClient.Initialize(io);
        MemoryPolicy.Initialize();
        ushort st = HvClient.GetRegister(0, HvRegister.VsmVpStatus, out ulong vpStatus);
        if (st != HvStatus.Success || (vpStatus & ActiveVtlMask) != 1) Stop("not running in VTL1 (VsmVpStatus)", vpStatus);

        Native.SealedWriteMsr(HvMsr.VpAssistPage, (ulong)assist | HvMsr.Enable);
        SetAssist((ulong)assist);
        // VTL protection on, every page RWX for VTL0 by default, then the monitor's pages: none.
        ulong config = HvPartitionConfig.EnableVtlProtection | ((ulong)HvMapGpa.All << HvPartitionConfig.DefaultMaskShift);
        st = HvClient.SetRegister(0, HvRegister.VsmPartitionConfig, config);
        if (st != HvStatus.Success) Stop("VsmPartitionConfig refused, status", st);
        st = HvClient.ProtectVtl0(start, end, HvMapGpa.None);
        if (st != HvStatus.Success) Stop("ModifyVtlProtectionMask refused, status", st);

        c.Write("monitor ").UDec(MonitorAbi.Version >> 16).Write('.').UDec(MonitorAbi.Version & 0xFFFF)
            .Write(" up: ").Hex(start).Write('-').Hex(end).Write(" (").UDec((end - start) >> 12)
            .Write(" pages) hidden from VTL0; VTL0 RAM ends at ").Hex(Vtl0Memory.RamEnd)
            .Write("; heap ").Size(Heap.BytesAllocated).Write(" of ").Size(Heap.Capacity).Line(" used");

        CaptureFrame();
        Dispatcher.Serve(assist);
    }

    public static void Stop(string what, ulong value)
    {
        Machine.Console.Write("PANIC: ").Write(what).Write(' ').Hex(value).Line(": stopping the machine");
        Machine.Exit(Machine.ExitPanic);
    }
}
