using System.Runtime;
using System.Runtime.CompilerServices;

namespace HekiGuest.Sdk
{
    /// <summary>Hyper-V hypercalls (64-bit memory form) and the VTL call into the guest's own
    /// monitor (docs/vtl.md section 15). The image must link kernel/Sdk/asm/hvcall.s.</summary>
    public static unsafe class VtlCall
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_hv_hypercall")]
        public static extern ulong Hypercall(ulong input, ulong inputGpa, ulong outputGpa);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_vtl_call")]
        private static extern long RawCall(ulong id, ulong a0, ulong a1, ulong a2, ulong* results);

        /// <summary>Set once VTL1 answered init; every call before that returns NoMonitor.</summary>
        public static bool MonitorRunning;

        /// <summary>Calls the monitor; <paramref name="value"/> and <paramref name="value2"/>
        /// are RDX and R8 as it left them.</summary>
        public static long Call(ulong id, ulong a0, ulong a1, ulong a2, out ulong value, out ulong value2)
        {
            value = value2 = 0;
            if (!MonitorRunning) return Abi.MonitorStatus.NoMonitor;
            ulong* r = stackalloc ulong[2];
            long status = RawCall(id, a0, a1, a2, r);
            value = r[0];
            value2 = r[1];
            return status;
        }

        /// <summary>The first call: starts VTL1 at its initial context (the monitor's boot stub).</summary>
        public static long Start(ulong ramEndPages, out ulong version)
        {
            ulong* r = stackalloc ulong[2];
            long status = RawCall(Abi.MonitorCall.Init, ramEndPages, 0, 0, r);
            version = r[0];
            return status;
        }
    }
}
