using HekiGuest.Abi;
using HekiGuest.Kernel.Testing;
using HekiGuest.Kernel.Vtl;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Testing;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// The VTL1 monitor's boot protocol (docs/vtl.md section 15). PASS on a VSM host
// (hostsim --profile vsm), where the kernel started the monitor; elsewhere each is a SKIP naming
// why the monitor does not run. The VTL1 memory attack prints an "expect intercept" line: the
// boot harness checks it matches exactly one monitor denial line and one host intercept event.
public sealed unsafe class VtlTests : ITestGroup
{
    public string Name => "vtl1";
    public bool Hidden => false;

    private static ulong s_target;
    private static byte s_read;

    private static readonly string[] Names =
    {
        "monitor answers init", "VTL1 memory is unreadable from VTL0", "boot-only call refused after end of boot",
        "garbage call id answered with an error", "monitor checks VTL0 pointers",
        "clearing a pinned CR4 bit from VTL0 is refused by VTL1",
        "random VTL calls are answered and the monitor keeps serving",
        "VTL1-only hypercalls from VTL0 are refused by the host",
    };
    /// <summary>Random calls per boot; `monitor.calls=N` on the command line (1..10,000,000)
    /// sets another count (`make fuzz-vtl`: 100,000).</summary>
    private const long DefaultRandomCalls = 2000, MaxRandomCalls = 10_000_000;
    private readonly long _randomCalls;

    public VtlTests(CommandLine cmdline)
    {
        long n = cmdline.GetNumber("monitor.calls");
        _randomCalls = n == CommandLine.Absent ? DefaultRandomCalls : n >= 1 && n <= MaxRandomCalls ? n : CommandLine.Malformed;
        Vtl1MemoryStorm.Configure(cmdline);
    }

    public void Run(TestContext t)
    {
        if (!VtlCall.MonitorRunning)
        {
            for (int i = 0; i < Names.Length; i++) t.Skip(Names[i], MonitorBoot.Reason);
            Vtl1MemoryTests.Run(t);
            Vtl1SealedTests.Skip(t, MonitorBoot.Reason);
            return;
        }
        long version = VtlCall.Call(MonitorCall.Version, 0, 0, 0, out ulong v, out _);
        t.Check(MonitorBoot.InitStatus == MonitorStatus.Success && MonitorBoot.InitVersion == MonitorAbi.Version
            && version == MonitorStatus.Success && v == MonitorAbi.Version, Names[0], "init or version answered wrongly");

        UnreadableMemory(t);

        long eob = VtlCall.Call(MonitorCall.EndOfBoot, 0, 0, 0, out _, out _);
        long init = VtlCall.Call(MonitorCall.Init, 0, 0, 0, out _, out _);
        long relock = VtlCall.Call(MonitorCall.LockRegisters, 0, 0, 0, out _, out _);
        t.Check(MonitorBoot.EndOfBootStatus == MonitorStatus.Success && eob == MonitorStatus.BootOnly && init == MonitorStatus.BootOnly
            && relock == MonitorStatus.BootOnly,
            Names[2], "end of boot failed or a boot-only call was accepted after it");

        long garbage = VtlCall.Call(0xDEAD_BEEF_0000_0007, 1, 2, 3, out ulong gv, out ulong gv2);
        long zero = VtlCall.Call(0, 0, 0, 0, out _, out _);
        long after = VtlCall.Call(MonitorCall.Version, 0, 0, 0, out ulong v2, out _);
        t.Check(garbage == MonitorStatus.UnknownCall && gv == 0 && gv2 == 0 && zero == MonitorStatus.UnknownCall
            && after == MonitorStatus.Success && v2 == MonitorAbi.Version, Names[3], "unknown ids were not refused or the monitor stopped serving");

        Pointers(t);
        PinnedCr4(t);
        RandomCallStorm(t);
        Vtl1OnlyHypercalls(t);
        Vtl1MemoryTests.Run(t);
        Vtl1SealedTests.Run(t);
    }

    // What VTL0 could try against VTL1 through the host: unprotect the monitor's pages, write its
    // own CR4 or VTL1's registers around the intercepts, restart VTL1 with a context of its own,
    // make the host read VTL1's memory for it. The host refuses each (docs/vtl.md sections 4-10).
    private static void Vtl1OnlyHypercalls(TestContext t)
    {
        byte* input = Heap.AllocatePages(1);
        byte* output = Heap.AllocatePages(1);
        ulong cr4 = Native.ReadCr4();
        const ulong OneRep = 1UL << HvHypercallInput.RepCountShift;

        Clear(input);
        *(ulong*)input = HvCall.PartitionSelf;
        *(uint*)(input + HvMapGpa.MapFlagsOffset) = HvMapGpa.All;
        *(ulong*)(input + HvMapGpa.HeaderSize) = MonitorBoot.Low >> 12;
        ulong unprotect = VtlCall.Hypercall(HvCall.ModifyVtlProtectionMask | OneRep, (ulong)input, 0) & HvHypercallInput.StatusMask;

        Clear(input);
        *(ulong*)input = HvCall.PartitionSelf;
        *(uint*)(input + HvVpRegisters.VpIndexOffset) = HvCall.VpSelf;
        *(uint*)(input + HvVpRegisters.HeaderSize) = HvRegister.Cr4;
        *(ulong*)(input + HvVpRegisters.HeaderSize + HvVpRegisters.SetValueOffset) = cr4 & ~ControlRegisters.Cr4Smep;
        ulong ownCr4 = VtlCall.Hypercall(HvCall.SetVpRegisters | OneRep, (ulong)input, 0) & HvHypercallInput.StatusMask;

        input[HvVpRegisters.InputVtlOffset] = HvInputVtl.UseTargetVtl | 1;
        *(uint*)(input + HvVpRegisters.HeaderSize) = HvRegister.CrInterceptControl;
        *(ulong*)(input + HvVpRegisters.HeaderSize + HvVpRegisters.SetValueOffset) = 0;
        ulong vtl1Register = VtlCall.Hypercall(HvCall.SetVpRegisters | OneRep, (ulong)input, 0) & HvHypercallInput.StatusMask;

        Clear(input);
        *(ulong*)input = HvCall.PartitionSelf;
        *(uint*)(input + 8) = HvCall.VpSelf;
        input[12] = 1;
        ulong restart = VtlCall.Hypercall(HvCall.EnableVpVtl, (ulong)input, 0) & HvHypercallInput.StatusMask;

        ulong readVtl1 = VtlCall.Hypercall(HvCall.GetVpRegisters | OneRep, MonitorBoot.Low, (ulong)output) & HvHypercallInput.StatusMask;

        VtlCall.Call(MonitorCall.Version, 0, 0, 0, out ulong v, out _);
        t.Check(unprotect == HvStatus.AccessDenied && ownCr4 == HvStatus.AccessDenied && vtl1Register == HvStatus.AccessDenied
            && restart == HvStatus.VtlAlreadyEnabled && readVtl1 == HvStatus.AccessDenied && Native.ReadCr4() == cr4 && v == MonitorAbi.Version,
            Names[7], "the host accepted a VTL1-only call from VTL0");
    }

    private static void Clear(byte* page)
    {
        for (int i = 0; i < 4096; i++) page[i] = 0;
    }

    // Random ids (the defined ones and any 64-bit value) with random arguments; every pointer
    // argument of describe is one VTL1 must refuse (its own pages, beyond RAM, wrapping,
    // misaligned) or a scratch page. Every answer must be a documented status, nothing may be
    // intercepted, and the monitor must still answer afterwards.
    private void RandomCallStorm(TestContext t)
    {
        if (_randomCalls < 1)
        {
            t.Fail(Names[6], "monitor.calls= must be a decimal number from 1 to 10000000");
            return;
        }
        ulong* scratch = (ulong*)Heap.AllocatePages(1);
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        ulong x = 0x9E3779B97F4A7C15UL;
        long bad = 0, ok = 0;
        for (long i = 0; i < _randomCalls; i++)
        {
            // ids 7 and up change VTL0's state (privileged writes, hand-over, memory): the
            // storm keeps to the ones that do not, and to any 64-bit id
            ulong id = (Next(ref x) & 1) == 0 ? Next(ref x) % 7 : Next(ref x);
            ulong a0 = Next(ref x), a1 = Next(ref x) % 64, a2 = Next(ref x);
            if (id == MonitorCall.Describe)
            {
                switch (Next(ref x) % 5)
                {
                    case 0: a0 = MonitorBoot.Low + (Next(ref x) % (MonitorBoot.High - MonitorBoot.Low)); break;
                    case 1: a0 = MonitorBoot.RamEnd + (Next(ref x) % 0x1_0000_0000UL); break;
                    case 2: a0 = ulong.MaxValue - (Next(ref x) % 32); break;
                    case 3: a0 = (ulong)scratch + 1 + (Next(ref x) % 7); break;
                    default: a0 = (ulong)scratch + 8 * (Next(ref x) % 64); break;
                }
            }
            long st = VtlCall.Call(id, a0, a1, a2, out _, out _);
            if (st < MonitorStatus.Success || st > MonitorStatus.AlreadyDone) bad++;
            if (st == MonitorStatus.Success) ok++;
        }
        long after = VtlCall.Call(MonitorCall.Version, 0, 0, 0, out ulong v, out ulong denials);
        t.Out.Write("  monitor: random VTL calls: ").Dec(_randomCalls).Write(" made, ").Dec(ok).Line(" succeeded");
        t.Check(bad == 0 && ok > 0 && after == MonitorStatus.Success && v == MonitorAbi.Version && denials == before,
            Names[6], "an undocumented status, an intercept, or the monitor stopped answering");
    }

    private static ulong Next(ref ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    private static void PinnedCr4(TestContext t)
    {
        if (MonitorBoot.LockStatus != MonitorStatus.Success || (MonitorBoot.Cr4Locked & ControlRegisters.Cr4Smep) == 0)
        {
            t.Fail(Names[5], "CR4.SMEP was not locked at boot");
            return;
        }
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        ulong cr4 = Native.ReadCr4();
        s_target = cr4 & ~ControlRegisters.Cr4Smep;
        t.Out.Write("  monitor: expect call denial register=CR4 value=").Hex(s_target).Line();
        FaultRecord r = FaultProbe.Run(&WriteCr4);
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong after, out _);
        t.Check(r.Faulted && r.Vector == 13 && Native.ReadCr4() == cr4 && after == before + 1, Names[5], "no #GP, CR4 changed or no VTL1 denial");
    }

    private static void WriteCr4() => SealedOps.WriteCr4(s_target);

    private static void UnreadableMemory(TestContext t)
    {
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        s_target = MonitorBoot.Low + 0x40;
        s_read = 0x5A;
        t.Out.Write("  monitor: expect intercept kind=memory access=read gpa=").Hex(s_target).Line();
        FaultRecord r = FaultProbe.Run(&ReadTarget);
        long st = VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong afterCount, out _);
        t.Check(r.Faulted && r.Vector == 13 && s_read == 0x5A && st == MonitorStatus.Success && afterCount == before + 1,
            Names[1], "the read was not refused by VTL1 exactly once");
    }

    private static void Pointers(TestContext t)
    {
        ulong* buffer = (ulong*)Heap.AllocatePages(1);
        long ok = VtlCall.Call(MonitorCall.Describe, (ulong)buffer, MonitorAbi.DescribeSize, 0, out _, out _);
        bool content = buffer[0] == MonitorAbi.Version && buffer[1] == MonitorBoot.Low && buffer[2] == (MonitorBoot.High - MonitorBoot.Low) >> 12;
        long intoVtl1 = VtlCall.Call(MonitorCall.Describe, MonitorBoot.Low, MonitorAbi.DescribeSize, 0, out _, out _);
        long straddle = VtlCall.Call(MonitorCall.Describe, MonitorBoot.Low - 8, MonitorAbi.DescribeSize, 0, out _, out _);
        long beyondRam = VtlCall.Call(MonitorCall.Describe, MonitorBoot.RamEnd - 8, MonitorAbi.DescribeSize, 0, out _, out _);
        long wraps = VtlCall.Call(MonitorCall.Describe, ulong.MaxValue - 7, MonitorAbi.DescribeSize, 0, out _, out _);
        long small = VtlCall.Call(MonitorCall.Describe, (ulong)buffer, MonitorAbi.DescribeSize - 1, 0, out _, out _);
        t.Check(ok == MonitorStatus.Success && content && intoVtl1 == MonitorStatus.InvalidArgument && straddle == MonitorStatus.InvalidArgument
            && beyondRam == MonitorStatus.InvalidArgument && wraps == MonitorStatus.InvalidArgument && small == MonitorStatus.InvalidArgument,
            Names[4], "a buffer outside VTL0 RAM was accepted or a valid one refused");
    }

    private static void ReadTarget() => s_read = *(byte*)s_target;
}
