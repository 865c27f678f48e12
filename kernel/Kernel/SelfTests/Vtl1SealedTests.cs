using HekiGuest.Abi;
using HekiGuest.Kernel.Vtl;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Testing;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.SelfTests;

// The sealed section in VTL1's hands (docs/vtl.md section 15, part of the vtl1 group, run by
// VtlTests): VTL0 can no longer execute it, and every privileged write it asks VTL1 for is checked
// against the policy sealed at boot. Each attack must be refused with exactly one new VTL1 denial
// and #GP(0) in VTL0; each normal-path write must take effect. The attacks print an "expect"
// line the boot harness matches with the monitor's denial line and the host's event.
public static unsafe class Vtl1SealedTests
{
    public static readonly string[] Names =
    {
        "the sealed section was handed to VTL1 (digest checked, boot-only afterwards)",
        "calling a sealed routine after the hand-over is refused by VTL1",
        "jumping into the middle of the sealed section is refused by VTL1",
        "clearing pinned CR0.WP through the write call is denied by VTL1",
        "loading another IDT after end of boot is denied by VTL1",
        "writing a boot-only MSR (LSTAR) after end of boot is denied by VTL1",
        "a permitted CR4 write through VTL1 takes effect (TSD toggled and back)",
        "a permitted MSR write through VTL1 takes effect (KERNEL_GS_BASE read back)",
    };

    private const uint MsrLstar = 0xC0000082, MsrKernelGsBase = 0xC0000102;
    private static ulong s_target, s_value;

    public static void Skip(TestContext t, string reason)
    {
        for (int i = 0; i < Names.Length; i++) t.Skip(Names[i], reason);
    }

    public static void Run(TestContext t)
    {
        long again = VtlCall.Call(MonitorCall.HandOverSealed, SealedHandOver.Start, SealedHandOver.End - SealedHandOver.Start, 0, out _, out _);
        t.Check(SealedHandOver.Status == MonitorStatus.Success && SealedOps.Routed && again == MonitorStatus.BootOnly
            && SealedHandOver.Routines > 0 && SealedHandOver.Start == LinkerSymbols.SealedStart()
            && SealedHandOver.End == LinkerSymbols.SealedEnd(), Names[0],
            "the hand-over failed, the writes are not routed to VTL1, or a second hand-over was accepted");

        // Execute denials: VTL0 fetches from the section's pages are intercepted by the host.
        s_target = Native.SealedRoutineTable()[2];      // heki_sealed_write_cr4
        s_value = Native.ReadCr4();
        ExpectExecuteDenial(t, Names[1], &CallSealedRoutine);
        s_target = LinkerSymbols.SealedStart() + (LinkerSymbols.SealedEnd() - LinkerSymbols.SealedStart()) / 2;
        ExpectExecuteDenial(t, Names[2], &JumpToTarget);

        // Policy denials of the write calls.
        ulong cr0 = Native.ReadCr0();
        s_value = cr0 & ~ControlRegisters.Cr0Wp;
        t.Out.Write("  monitor: expect call denial register=CR0 value=").Hex(s_value).Line();
        ExpectPolicyDenial(t, Names[3], &WriteCr0, Native.ReadCr0() == cr0);

        DescriptorTablePointer before, after;
        Native.StoreIdt(&before);
        s_target = (ulong)Internal.Runtime.Heap.AllocatePages(1);
        t.Out.Write("  monitor: expect call denial LIDT base=").Hex(s_target).Line();
        FaultRecord r = Denied(&LoadOtherIdt, out bool counted);
        Native.StoreIdt(&after);
        t.Check(r.Faulted && r.Vector == 13 && counted && after.Base == before.Base && after.Limit == before.Limit,
            Names[4], "IDTR changed, no #GP, or no VTL1 denial");

        ulong lstar = Native.ReadMsr(MsrLstar);
        s_value = lstar ^ 0x1000;
        t.Out.Write("  monitor: expect call denial MSR=").Hex(MsrLstar).Write(" value=").Hex(s_value).Line();
        ExpectPolicyDenial(t, Names[5], &WriteLstar, Native.ReadMsr(MsrLstar) == lstar);

        // Normal paths: allowed writes are performed by VTL1 and visible in VTL0.
        ulong cr4 = Native.ReadCr4();
        SealedOps.WriteCr4(cr4 ^ ControlRegisters.Cr4Tsd);
        long toggled = MonitorPrivilegedWriter.LastStatus;
        ulong seen = Native.ReadCr4();
        SealedOps.WriteCr4(cr4);
        t.Check(toggled == MonitorStatus.Success && seen == (cr4 ^ ControlRegisters.Cr4Tsd) && Native.ReadCr4() == cr4,
            Names[6], "VTL1 refused an allowed CR4 write or it did not take effect");

        ulong gsBase = Native.ReadMsr(MsrKernelGsBase);
        SealedOps.WriteMsr(MsrKernelGsBase, 0x0000_7F00_1234_5000);
        long written = MonitorPrivilegedWriter.LastStatus;
        ulong seenMsr = Native.ReadMsr(MsrKernelGsBase);
        SealedOps.WriteMsr(MsrKernelGsBase, gsBase);
        t.Check(written == MonitorStatus.Success && seenMsr == 0x0000_7F00_1234_5000 && Native.ReadMsr(MsrKernelGsBase) == gsBase,
            Names[7], "VTL1 refused an allowed MSR write or it did not take effect");
    }

    private static void ExpectExecuteDenial(TestContext t, string name, delegate*<void> attack)
    {
        t.Out.Write("  monitor: expect intercept kind=memory access=execute gpa=").Hex(s_target).Line();
        FaultRecord r = Denied(attack, out bool counted);
        t.Check(r.Faulted && r.Vector == 13 && r.Rip == s_target && counted, name, "no #GP at the target or no VTL1 denial");
    }

    private static void ExpectPolicyDenial(TestContext t, string name, delegate*<void> attack, bool unchanged)
    {
        FaultRecord r = Denied(attack, out bool counted);
        // (the #GP arrives right after the VTL call's VMCALL: the status never reaches the caller)
        t.Check(r.Faulted && r.Vector == 13 && counted && unchanged,
            name, "no #GP, the register changed, or no VTL1 denial");
    }

    /// <summary>Runs <paramref name="attack"/> under a fault probe; <paramref name="counted"/>:
    /// VTL1 reported exactly one new denial.</summary>
    private static FaultRecord Denied(delegate*<void> attack, out bool counted)
    {
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        FaultRecord r = FaultProbe.Run(attack);
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong after, out _);
        counted = after == before + 1;
        return r;
    }

    private static void CallSealedRoutine() => Native.SealedWriteCr4(s_value);
    private static void JumpToTarget() => ((delegate*<void>)s_target)();
    private static void WriteCr0() => SealedOps.WriteCr0(s_value);
    private static void WriteLstar() => SealedOps.WriteMsr(MsrLstar, s_value);

    private static void LoadOtherIdt()
    {
        DescriptorTablePointer p;
        p.Base = s_target;
        p.Limit = 0xFFF;
        SealedOps.LoadIdt(&p);
    }
}
