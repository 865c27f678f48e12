using HekiGuest.Abi;
using HekiGuest.Platform.Arch;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.Vtl;

// The kernel's privileged writes once its sealed section belongs to VTL1 (installed with
// SealedOps.Route after the hand-over): each is a VTL call (ids 7-15, docs/vtl.md section 15).
// The monitor checks it against the policy sealed at boot and performs it on VTL0's registers; a
// write it does not perform comes back as #GP(0) at the return of the call, as the instruction
// itself would raise on a host that refuses it (FaultProbe-based self-tests see the same fault).
public sealed unsafe class MonitorPrivilegedWriter : IPrivilegedWriter
{
    /// <summary>The status of the last call that returned (a refused one raises #GP(0) before
    /// its status is stored).</summary>
    public static long LastStatus;

    private static void Call(ulong id, ulong a0, ulong a1) => LastStatus = VtlCall.Call(id, a0, a1, 0, out _, out _);

    public void WriteCr0(ulong value) => Call(MonitorCall.WriteCr0, value, 0);
    public void WriteCr3(ulong value) => Call(MonitorCall.WriteCr3, value, 0);
    public void WriteCr4(ulong value) => Call(MonitorCall.WriteCr4, value, 0);
    public void WriteMsr(uint msr, ulong value) => Call(MonitorCall.WriteMsr, msr, value);
    public void SetXcr(uint xcr, ulong value) => Call(MonitorCall.SetXcr, xcr, value);
    public void LoadGdt(DescriptorTablePointer* table) => Call(MonitorCall.LoadGdt, table->Base, table->Limit);
    public void LoadIdt(DescriptorTablePointer* table) => Call(MonitorCall.LoadIdt, table->Base, table->Limit);
    public void LoadTr(ushort selector) => Call(MonitorCall.LoadTr, selector, 0);
    public void LoadLdt(ushort selector) => Call(MonitorCall.LoadLdt, selector, 0);
}
