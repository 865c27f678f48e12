using System.Runtime.InteropServices;
using HekiGuest.Platform.Arch;
using Internal.Runtime;

namespace HekiGuest.Platform.Runtime;

// The kernel's fail-fast: one PANIC line naming the failure, the frame-pointer backtrace, and
// exit status 2. Reentry (a failure while reporting) stops at once.
public static unsafe class Panic
{
    private static int s_depth;

    [UnmanagedCallersOnly(EntryPoint = "heki_fail_fast")]
    private static void FailFastExport(int kind, char* detail, int detailLength)
    {
        Begin();
        var c = Machine.Console;
        c.Write("PANIC: ").Write(RuntimeFailure.Name((FailureKind)kind));
        if (detail != null && detailLength > 0) c.Write(": ").Write(detail, detailLength);
        c.Line();
        Backtrace(Native.ReadRbp());
        Machine.Exit(Machine.ExitPanic);
    }

    public static void Stop(string what)
    {
        Begin();
        Machine.Console.Write("PANIC: ").Line(what);
        Backtrace(Native.ReadRbp());
        Machine.Exit(Machine.ExitPanic);
    }

    public static void Begin()
    {
        Native.DisableInterrupts();
        if (++s_depth > 1 || Machine.Console is null)
        {
            // Console missing or a failure inside the report: write a fixed line with raw I/O.
            const string msg = "PANIC: failure while reporting a failure\n";
            for (int i = 0; i < msg.Length; i++) Native.OutB(0x3F8, (byte)msg[i]);
            Machine.Exit(Machine.ExitPanic);
        }
    }

    // Walks saved-RBP frames while they stay inside the boot stack.
    public static void Backtrace(ulong rbp)
    {
        ulong lo = LinkerSymbols.BootStackBottom(), hi = LinkerSymbols.BootStackTop();
        var c = Machine.Console;
        c.Line("  backtrace:");
        for (int i = 0; i < 16 && rbp >= lo && rbp + 16 <= hi && (rbp & 7) == 0; i++)
        {
            ulong ret = ((ulong*)rbp)[1];
            if (ret == 0) break;
            c.Write("    ").Hex(ret, 8).Write(' ');
            Symbols.Write(c, ret);
            c.Line();
            ulong next = ((ulong*)rbp)[0];
            if (next <= rbp) break;
            rbp = next;
        }
    }
}
