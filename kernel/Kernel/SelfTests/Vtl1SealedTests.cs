using HekiGuest.Abi;
using HekiGuest.Kernel.Memory;
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
        "a WRMSR of LSTAR VTL0 made executable itself is refused by VTL1 (MSR intercept)",
        "the same WRMSR keeping LSTAR's value is performed by VTL1 (MSR intercept)",
    };

    private const uint MsrLstar = 0xC0000082, MsrKernelGsBase = 0xC0000102;
    private static ulong s_target, s_value;
    /// <summary>0 at run time: the WRMSR opcode is computed, so no 0F 30 appears in the image's code.</summary>
    private static byte s_opcodeSeed;

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

        OwnWrmsr(t, lstar);
    }

    // VTL0 builds its own "WRMSR LSTAR" in a data page and makes an alias of it executable by
    // clearing NX in the alias's page-table entry itself (nothing in the image can write LSTAR
    // after the hand-over). The host intercepts the WRMSR (VTL1 armed it at the hand-over) and
    // VTL1 applies the same policy as to the write call. Where VTL1 also owns VTL0's page tables
    // (protect memory), the attack is refused one step earlier, at the page-table write: still
    // exactly one VTL1 denial and #GP, and the normal-path WRMSR cannot be set up (SKIP).
    private static void OwnWrmsr(TestContext t, ulong lstar)
    {
        byte* page = Internal.Runtime.Heap.AllocatePages(1);
        ulong other = lstar ^ 0x2000;
        byte* p = page;
        *p++ = 0xB9; *(uint*)p = MsrLstar; p += 4;                      // mov ecx, LSTAR
        *p++ = 0xB8; *(uint*)p = (uint)other; p += 4;                   // mov eax, low
        *p++ = 0xBA; *(uint*)p = (uint)(other >> 32); p += 4;           // mov edx, high
        *p++ = (byte)(0x0F + s_opcodeSeed); *p++ = (byte)(0x30 + s_opcodeSeed);   // wrmsr
        *p = 0xC3;                                                      // ret
        ulong alias = PageTables.MapAlias((ulong)page, PageFlags.Present | PageFlags.NoExecute);
        s_pte = (ulong)LeafEntry(alias);
        FaultRecord pte = Denied(&MakeAliasExecutable, out bool pteDenied);
        Native.InvalidatePage(alias);
        s_target = alias;
        if (pte.Faulted)
        {
            t.Check(pte.Vector == 13 && pteDenied && Native.ReadMsr(MsrLstar) == lstar, Names[8],
                "the page-table write was not refused by VTL1 with #GP and one denial");
            t.Skip(Names[9], "VTL0 cannot make a page executable: VTL1 owns its page tables");
            return;
        }
        t.Out.Write("  monitor: expect intercept kind=msr msr=").Hex(MsrLstar).Write(" value=").Hex(other).Line();
        FaultRecord r = Denied(&JumpToTarget, out bool counted);
        t.Check(s_pte != 0 && r.Faulted && r.Vector == 13 && r.Rip == s_target + 15 && counted && Native.ReadMsr(MsrLstar) == lstar,
            Names[8], "no #GP at the WRMSR, LSTAR changed, or no VTL1 denial");

        *(uint*)(page + 6) = (uint)lstar;
        *(uint*)(page + 11) = (uint)(lstar >> 32);
        t.Out.Write("  monitor: expect intercept kind=msr msr=").Hex(MsrLstar).Write(" value=").Hex(lstar).Line();
        r = Denied(&JumpToTarget, out counted);
        t.Check(!r.Faulted && !counted && Native.ReadMsr(MsrLstar) == lstar, Names[9], "VTL1 refused an allowed WRMSR or LSTAR changed");
    }

    private static ulong s_pte;

    private static void MakeAliasExecutable() => *(ulong*)s_pte &= ~PageFlags.NoExecute;

    // The 4 KiB page-table entry of a mapped address (the kernel's tables are identity-mapped).
    private static ulong* LeafEntry(ulong virt)
    {
        ulong* table = (ulong*)(Native.ReadCr3() & PageFlags.AddressMask);
        for (int level = 3; level >= 1; level--)
        {
            ulong e = table[(virt >> (12 + 9 * level)) & 511];
            if ((e & PageFlags.Present) == 0 || (e & PageFlags.Large) != 0) return null;
            table = (ulong*)(e & PageFlags.AddressMask);
        }
        return table + ((virt >> 12) & 511);
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
