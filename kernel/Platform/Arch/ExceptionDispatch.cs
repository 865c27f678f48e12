using System.Runtime.InteropServices;
using HekiGuest.Platform.Drivers;
using HekiGuest.Platform.Runtime;
using Internal.Runtime;

namespace HekiGuest.Platform.Arch;

// Every CPU exception arrives here from isr_common. A handler registered by a self-test that
// expects a fault may claim it and resume; anything else is a kernel bug: full report, panic.
public static unsafe class ExceptionDispatch
{
    public const int PageFault = 14;
    public const ulong EferMsr = 0xC0000080;

    // Set by code that expects a fault (see FaultProbe); returns true when it handled it.
    public static delegate*<InterruptFrame*, bool> Interceptor;

    [UnmanagedCallersOnly(EntryPoint = "heki_exception_dispatch")]
    private static void Dispatch(InterruptFrame* frame)
    {
        if (Interceptor != null && Interceptor(frame)) return;
        Unhandled(frame);
    }

    public static string VectorName(ulong v) => v switch
    {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        9 => "coprocessor segment overrun",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 floating point",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating point",
        20 => "#VE virtualization",
        21 => "#CP control protection",
        28 => "#HV hypervisor injection",
        29 => "#VC VMM communication",
        30 => "#SX security",
        _ => "reserved vector",
    };

    public static void WritePageFaultBits(TextOut c, ulong error)
    {
        c.Write((error & 1) != 0 ? "present" : "not-present");
        c.Write((error & 2) != 0 ? " write" : " read");
        c.Write((error & 4) != 0 ? " user" : " supervisor");
        if ((error & 8) != 0) c.Write(" reserved-bit");
        if ((error & 16) != 0) c.Write(" instruction-fetch");
        if ((error & 32) != 0) c.Write(" protection-key");
        if ((error & 0x8000) != 0) c.Write(" sgx");
    }

    private static void Unhandled(InterruptFrame* f)
    {
        Panic.Begin();
        var c = Machine.Console;
        ulong cr2 = Native.ReadCr2();
        bool nullReference = f->Vector == PageFault && cr2 < 0x1000 && (f->ErrorCode & 16) == 0;
        c.Write("PANIC: ");
        if (nullReference) c.Write(RuntimeFailure.Name(FailureKind.NullReference)).Write(": ");
        else if (f->Vector == 0) c.Write(RuntimeFailure.Name(FailureKind.DivideByZero)).Write(" or quotient overflow: ");
        c.Write("unhandled ").Write(VectorName(f->Vector)).Write(" (vector ").UDec(f->Vector).Write(")");
        c.Write(" error ").Hex(f->ErrorCode);
        if (f->Vector == PageFault) { c.Write(" ["); WritePageFaultBits(c, f->ErrorCode); c.Write("]"); }
        c.Write(" at ");
        Symbols.Write(c, f->Rip);
        c.Line();
        if (f->Vector == 8) WriteDoubleFaultCause(c, f, cr2);
        WriteReport(c, f, cr2);
        Panic.Backtrace(f->Rbp);
        Machine.Exit(Machine.ExitPanic);
    }

    // A double fault on its IST stack: say which guard page, if any, the old stack ran into.
    public static void WriteDoubleFaultCause(TextOut c, InterruptFrame* f, ulong cr2)
    {
        ulong guard = LinkerSymbols.BootStackBottom() - 4096;
        if (f->Rsp >= guard - 512 && f->Rsp < guard + 4096 + 512 || (cr2 >= guard && cr2 < guard + 4096))
            c.Line("  cause: kernel stack overflow (boot stack guard page hit); reported on the IST1 stack");
        else
            c.Line("  cause: a fault while delivering a fault; reported on the IST1 stack");
    }

    public static void WriteReport(TextOut c, InterruptFrame* f, ulong cr2)
    {
        c.Write("  RIP ").Hex(f->Rip, 16).Write("  RSP ").Hex(f->Rsp, 16).Write("  RFLAGS ").Hex(f->Rflags, 8).Line();
        c.Write("  CS ").Hex(f->Cs, 4).Write("  SS ").Hex(f->Ss, 4).Line();
        c.Write("  RAX ").Hex(f->Rax, 16).Write("  RBX ").Hex(f->Rbx, 16).Write("  RCX ").Hex(f->Rcx, 16).Line();
        c.Write("  RDX ").Hex(f->Rdx, 16).Write("  RSI ").Hex(f->Rsi, 16).Write("  RDI ").Hex(f->Rdi, 16).Line();
        c.Write("  RBP ").Hex(f->Rbp, 16).Write("  R8  ").Hex(f->R8, 16).Write("  R9  ").Hex(f->R9, 16).Line();
        c.Write("  CR0 ").Hex(Native.ReadCr0(), 8).Write("  CR2 ").Hex(cr2, 16).Write("  CR3 ").Hex(Native.ReadCr3(), 8)
            .Write("  CR4 ").Hex(Native.ReadCr4(), 8).Write("  EFER ").Hex(Native.ReadMsr((uint)EferMsr), 4).Line();
        c.Write("  code at RIP:");
        if (IsReadableKernelAddress(f->Rip, 16))
        {
            byte* p = (byte*)f->Rip;
            for (int i = 0; i < 16; i++) { c.Write(' '); c.HexDigits(p[i], 2); }
        }
        else c.Write(" (not in the kernel image)");
        c.Line();
    }

    public static bool IsReadableKernelAddress(ulong address, ulong length)
    {
        return address >= LinkerSymbols.ImageStart() && address + length <= LinkerSymbols.ImageEnd() && address + length > address;
    }
}
