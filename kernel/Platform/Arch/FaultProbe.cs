using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// What a probe observed: whether a fault happened and its vector, error code, CR2 and RIP.
public struct FaultRecord
{
    public bool Faulted;
    public ulong Vector, ErrorCode, Cr2, Rip;
}

// Lets a self-test run an action that is expected to fault and continue afterwards: the
// exception dispatcher hands the fault to the active probe, which resumes at the recovery point
// in heki_probe_run. Faults outside a probe still panic with the full report.
public static unsafe class FaultProbe
{
    [StructLayout(LayoutKind.Sequential)]
    private struct ProbeContext
    {
        public ulong SavedRsp;
        public ulong ResumeRip;
    }

    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_probe_run")]
    private static extern int ProbeRun(delegate*<void> action, ProbeContext* context);

    private static ProbeContext s_context;
    private static FaultRecord s_record;
    private static bool s_active;
    public static int FaultsCaught;

    public static FaultRecord Run(delegate*<void> action)
    {
        if (s_active) Runtime.Panic.Stop("nested fault probe");
        s_record = default;
        s_active = true;
        ExceptionDispatch.Interceptor = &Intercept;
        fixed (ProbeContext* ctx = &s_context) ProbeRun(action, ctx);
        s_active = false;
        ExceptionDispatch.Interceptor = null;
        return s_record;
    }

    private static bool Intercept(InterruptFrame* f)
    {
        if (!s_active) return false;
        s_record.Faulted = true;
        s_record.Vector = f->Vector;
        s_record.ErrorCode = f->ErrorCode;
        s_record.Cr2 = Native.ReadCr2();
        s_record.Rip = f->Rip;
        FaultsCaught++;
        // One fault per probe: a second one inside the same probe is a real failure.
        s_active = false;
        ExceptionDispatch.Interceptor = null;
        f->Rip = s_context.ResumeRip;
        f->Rsp = s_context.SavedRsp;
        f->Cs = Gdt.KernelCode;
        f->Ss = Gdt.KernelData;
        f->Rflags &= ~ControlRegisters.RflagsAc;
        return true;
    }
}
