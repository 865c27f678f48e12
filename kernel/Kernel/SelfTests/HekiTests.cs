using HekiGuest.Platform.Testing;
using HekiGuest.Abi;
using HekiGuest.Kernel.Heki;
using HekiGuest.Kernel.Memory;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// Attacks on every host-enforced protection. Each must be blocked by the host (PASS on a host
// with the HekiGuest interface); without one (QEMU) each is a SKIP naming the reason, while the
// kernel's own guest-side protections keep running in the other groups. Every attack that the
// host should report prints an "expect denial" line; the boot harness checks that each appears
// exactly once in the host's events file.
public sealed unsafe class HekiTests : ITestGroup
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "heki_sym_walk_bait")]
    private static extern ulong WalkBait();

    public string Name => "heki";
    public bool Hidden => false;

    private const ulong PfPresent = 1, PfWrite = 2, PfFetch = 16;
    private static ulong s_target, s_value;
    private static uint s_msr;

    public void Run(TestContext t)
    {
        var host = KernelHardening.Host;
        if (host is null || !host.Present)
        {
            string reason = host is null ? "hardening did not run" : host.Reason;
            string[] names =
            {
                "host interface detected", "CR pins in place", "clearing pinned CR4.SMEP faults, CR4 unchanged",
                "clearing pinned CR0.WP faults, CR0 unchanged", "writing an ALLOWED MSR faults",
                "pinning a disallowed bit faults", "removing a pin faults", "LOCK_CR rejects disallowed bits",
                "text write through an alias is denied", "execution of a remapped data page is denied",
                "a page walk cannot set accessed bits in immutable rodata",
                "relaxing an immutable range fails", "PROTECT_MEMORY validates its arguments",
            };
            for (int i = 0; i < names.Length; i++) t.Skip(names[i], reason);
            NormalPath(t);
            return;
        }
        t.Pass("host interface detected");
        var pinner = KernelHardening.Pinner;
        Pins(t, pinner);
        CrAttacks(t);
        MsrAttacks(t, pinner, host);
        MemoryAttacks(t, host);
        NormalPath(t);
    }

    private static void Pins(TestContext t, CrPinner pinner)
    {
        bool ok = KernelHardening.Cr0PinResult == 0 && KernelHardening.Cr4PinResult == 0;
        if (pinner.TryPinnedHigh(0, out ulong cr0) && pinner.TryPinnedHigh(4, out ulong cr4))
            ok &= (cr0 & KernelHardening.Cr0Pinned) == KernelHardening.Cr0Pinned && (cr4 & KernelHardening.Cr4Pinned) == KernelHardening.Cr4Pinned;
        t.Check(ok && KernelHardening.Cr4Pinned != 0, "CR pins in place", "pinning failed or the MSRs do not show the pins");
    }

    private static void ExpectCrDenial(TestContext t, int cr, ulong value)
    {
        t.Out.Write("  heki: expect denial kind=cr-write cr=").Dec(cr).Write(" value=").Hex(value).Line();
    }

    private static void CrAttacks(TestContext t)
    {
        ulong cr4 = Native.ReadCr4();
        s_value = cr4 & ~ControlRegisters.Cr4Smep;
        if ((KernelHardening.Cr4Pinned & HekiCrBits.Cr4Smep) != 0)
        {
            ExpectCrDenial(t, 4, s_value);
            FaultRecord r = FaultProbe.Run(&WriteCr4);
            t.Check(r.Faulted && r.Vector == 13 && Native.ReadCr4() == cr4, "clearing pinned CR4.SMEP faults, CR4 unchanged", "no #GP or CR4 changed");
        }
        else t.Skip("clearing pinned CR4.SMEP faults, CR4 unchanged", "SMEP not pinned");

        ulong cr0 = Native.ReadCr0();
        s_value = cr0 & ~ControlRegisters.Cr0Wp;
        if ((KernelHardening.Cr0Pinned & HekiCrBits.Cr0Wp) != 0)
        {
            ExpectCrDenial(t, 0, s_value);
            FaultRecord r = FaultProbe.Run(&WriteCr0);
            t.Check(r.Faulted && r.Vector == 13 && Native.ReadCr0() == cr0, "clearing pinned CR0.WP faults, CR0 unchanged", "no #GP or CR0 changed");
        }
        else t.Skip("clearing pinned CR0.WP faults, CR0 unchanged", "WP not pinned");
    }

    private static void MsrAttacks(TestContext t, CrPinner pinner, HekiHostInterface host)
    {
        if (!host.Has(HekiCpuid.FeatureCrPinMsrs))
        {
            t.Skip("writing an ALLOWED MSR faults", "this profile has no pinning MSRs");
            t.Skip("pinning a disallowed bit faults", "this profile has no pinning MSRs");
            t.Skip("removing a pin faults", "this profile has no pinning MSRs");
        }
        else
        {
            ExpectMsr(t, pinner.MsrAddress(HekiMsr.Cr4PinAllowed), pinner.Allowed(4) | ControlRegisters.Cr4Pae, "writing an ALLOWED MSR faults");
            uint high = pinner.MsrAddress(HekiMsr.Cr4PinnedHigh);
            pinner.TryPinnedHigh(4, out ulong pinned);
            ExpectMsr(t, high, pinned | ControlRegisters.Cr4Pae, "pinning a disallowed bit faults");
            ExpectMsr(t, high, pinned & ~HekiCrBits.Cr4Smep, "removing a pin faults");
        }
        if (host.Profile == HekiProfile.Heki && host.Has(HekiCpuid.FeatureLockCrHypercall))
        {
            var cpu = KernelHardening.Cpu;
            bool okVersion = cpu.TryHypercall(host.HypercallBase + HekiHypercall.LockCr, 0, 0, HekiHypercall.LockCrFlagVersion, 0, out long version);
            bool okBad = cpu.TryHypercall(host.HypercallBase + HekiHypercall.LockCr, 4, ControlRegisters.Cr4Pae, 0, 0, out long bad);
            t.Check(okVersion && version == HekiCpuid.AbiVersion && okBad && bad == HekiError.InvalidArgument,
                "LOCK_CR rejects disallowed bits", "version query or EINVAL missing");
        }
        else t.Skip("LOCK_CR rejects disallowed bits", "this profile has no LOCK_CR hypercall");
    }

    private static void ExpectMsr(TestContext t, uint msr, ulong value, string name)
    {
        ulong before = 0;
        KernelHardening.Cpu.TryReadMsr(msr, out before);
        t.Out.Write("  heki: expect denial kind=msr-write msr=").Hex(msr).Write(" value=").Hex(value).Line();
        s_msr = msr;
        s_value = value;
        FaultRecord r = FaultProbe.Run(&WriteMsr);
        KernelHardening.Cpu.TryReadMsr(msr, out ulong after);
        t.Check(r.Faulted && r.Vector == 13 && after == before, name, "no #GP or the MSR changed");
    }

    private static void MemoryAttacks(TestContext t, HekiHostInterface host)
    {
        var protector = KernelHardening.Protector;
        if (!protector.Available || KernelHardening.MemoryResult != 0)
        {
            string reason = protector.Available ? "memory protection was refused at boot" : "this profile has no PROTECT_MEMORY";
            t.Skip("text write through an alias is denied", reason);
            t.Skip("execution of a remapped data page is denied", reason);
            t.Skip("a page walk cannot set accessed bits in immutable rodata", reason);
            t.Skip("relaxing an immutable range fails", reason);
            t.Skip("PROTECT_MEMORY validates its arguments", reason);
            return;
        }
        // A writable alias of a kernel text page: the guest's page tables allow the write, the host must not.
        ulong textPage = LinkerSymbols.TextStart() + 0x1000;
        ulong alias = PageTables.MapAlias(textPage, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute);
        byte original = *(byte*)textPage;
        s_target = alias + 0x40;
        t.Out.Write("  heki: expect denial kind=memory access=write gva=").Hex(s_target).Write(" gpa=").Hex(textPage + 0x40).Line();
        FaultRecord w = FaultProbe.Run(&WriteTarget);
        t.Check(w.Faulted && w.Vector == 14 && (w.ErrorCode & HekiDenial.PageFaultErrorBit) != 0 && (w.ErrorCode & PfWrite) != 0
            && w.Cr2 == s_target && *(byte*)textPage == original, "text write through an alias is denied", "write not denied by the host");

        // A data page remapped executable in the guest page tables: the host keeps it non-executable.
        byte* data = Heap.AllocatePages(1);
        data[0] = 0xC3;
        ulong exec = PageTables.MapAlias((ulong)data, PageFlags.Present);
        s_target = exec;
        t.Out.Write("  heki: expect denial kind=memory access=execute gva=").Hex(exec).Write(" gpa=").Hex((ulong)data).Line();
        FaultRecord x = FaultProbe.Run(&CallTarget);
        t.Check(x.Faulted && x.Vector == 14 && (x.ErrorCode & HekiDenial.PageFaultErrorBit) != 0 && (x.ErrorCode & PfFetch) != 0
            && x.Cr2 == exec, "execution of a remapped data page is denied", "execution not denied by the host");

        // The CPU's own page walk: a page-directory entry pointing at the immutable rodata page
        // that holds heki_walk_bait, a qword that looks like a present PTE with the accessed bit
        // clear. A read through it needs the walk to set that bit: the host must refuse the
        // write (docs/abi.md section 4), leave the byte as it was and report the guest's read.
        ulong bait = WalkBait();
        ulong window = PageTables.MapTableAlias(bait & ~0xFFFUL);
        ulong baitBefore = *(ulong*)bait;
        s_target = window + ((bait & 0xFFF) / 8) * 4096;
        Native.InvalidatePage(s_target);
        t.Out.Write("  heki: expect denial kind=memory access=write cause=page-walk gva=").Hex(s_target).Write(" gpa=").Hex(bait).Line();
        FaultRecord walk = FaultProbe.Run(&ReadTarget);
        t.Check(walk.Faulted && walk.Vector == 14 && (walk.ErrorCode & HekiDenial.PageFaultErrorBit) != 0 && (walk.ErrorCode & PfWrite) == 0
            && walk.Cr2 == s_target && *(ulong*)bait == baitBefore,
            "a page walk cannot set accessed bits in immutable rodata", "the walk wrote the immutable page or the host did not refuse it");

        // Relaxing an immutable range: text page asked to become writable.
        HekiRange relax;
        relax.GuestPhysicalStart = textPage;
        relax.PageCount = 1;
        relax.Permissions = HekiPermission.Read | HekiPermission.Write | HekiPermission.Execute | HekiPermission.Immutable;
        t.Out.Write("  heki: expect denial kind=protect-memory error=").Dec(HekiError.PermissionDenied).Line();
        long rc = protector.Call(&relax, 1);
        s_target = alias + 0x41;
        t.Out.Write("  heki: expect denial kind=memory access=write gva=").Hex(s_target).Write(" gpa=").Hex(textPage + 0x41).Line();
        FaultRecord again = FaultProbe.Run(&WriteTarget);
        t.Check(rc == HekiError.PermissionDenied && again.Faulted && (again.ErrorCode & HekiDenial.PageFaultErrorBit) != 0,
            "relaxing an immutable range fails", "relax accepted or the page became writable");

        // Argument validation (errors, not denials).
        HekiRange* bad = stackalloc HekiRange[2];
        bad[0].GuestPhysicalStart = 0x1001; bad[0].PageCount = 1; bad[0].Permissions = HekiPermission.Read;
        long misaligned = protector.Call(bad, 1);
        bad[0].GuestPhysicalStart = 0x200000; bad[0].PageCount = 0;
        long empty = protector.Call(bad, 1);
        bad[0].PageCount = 1; bad[0].Permissions = 1UL << 40;
        long unknownBits = protector.Call(bad, 1);
        bad[0].Permissions = HekiPermission.Read | HekiPermission.Write; bad[0].PageCount = ulong.MaxValue >> 11;
        long overflow = protector.Call(bad, 1);
        long zeroCount = protector.Call(bad, 0);
        t.Check(misaligned == HekiError.InvalidArgument && empty == HekiError.InvalidArgument && unknownBits == HekiError.InvalidArgument
            && overflow == HekiError.InvalidArgument && zeroCount == HekiError.InvalidArgument,
            "PROTECT_MEMORY validates its arguments", "an invalid call was not rejected with EINVAL");
    }

    private static void NormalPath(TestContext t)
    {
        ulong cr4 = Native.ReadCr4();
        SealedOps.WriteCr4(cr4 ^ ControlRegisters.Cr4Tsd);
        bool changed = Native.ReadCr4() == (cr4 ^ ControlRegisters.Cr4Tsd);
        SealedOps.WriteCr4(cr4);
        t.Check(changed && Native.ReadCr4() == cr4, "unpinned CR4 bits still change", "an allowed CR4 write was refused");
    }

    private static void WriteCr4() => SealedOps.WriteCr4(s_value);
    private static void WriteCr0() => SealedOps.WriteCr0(s_value);
    private static void WriteMsr() => SealedOps.WriteMsr(s_msr, s_value);
    private static void WriteTarget() => *(byte*)s_target = 0xAB;
    private static void CallTarget() => ((delegate*<void>)s_target)();
    private static void ReadTarget() => s_value = *(ulong*)s_target;
}
