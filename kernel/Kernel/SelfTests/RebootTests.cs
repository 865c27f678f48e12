using HekiGuest.Abi;
using HekiGuest.Kernel.Heki;
using HekiGuest.Kernel.Testing;
using HekiGuest.Kernel.Vtl;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;
using HekiGuest.Platform.Testing;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// A reboot with the protections on (issue 13 item 6). Hidden: it resets the machine, so it runs
// only when named (tests=reboot). Boot 1 leaves a counter in CMOS NVRAM, which a reset keeps, and
// locks one spare page read-only and immutable through the host (when it offers PROTECT_MEMORY),
// then asks for a reset through the chipset's reset control register (port 0xCF9); it prints
// informational lines only, so the transcript's results and SUMMARY are boot 2's. Boot 2 finds
// counter 1 and checks the new kernel armed everything again from scratch: the boot report's
// results (pins and memory protection host-enforced again, the VTL1 monitor started again), and
// the page boot 1 locked is writable: no permission of the old kernel outlived the reset. On a
// platform that does not reset, boot 1 fails the reset check and goes on.
public sealed unsafe class RebootTests : ITestGroup
{
    public string Name => "reboot";
    public bool Hidden => true;

    // The NVRAM bytes this test owns (0x78-0x7E; the firmware and OSes use the low bytes).
    private const byte MagicByte = 0x78, CounterByte = 0x79, ArmedByte = 0x7A, PageByte = 0x7B;
    private const byte Magic = 0xA5;
    private const byte ArmedHeki = 0x01, ArmedMemory = 0x02, ArmedVtl1 = 0x04;

    private static ulong s_target;

    public void Run(TestContext t)
    {
        CmosNvram.TryRead(MagicByte, out byte magic);
        CmosNvram.TryRead(CounterByte, out byte counter);
        if (magic != Magic) FirstBoot(t);
        else SecondBoot(t, counter);
    }

    private static byte Armed()
    {
        byte armed = 0;
        if (KernelHardening.Host != null && KernelHardening.Host.Present && KernelHardening.Cr0PinResult == 0 && KernelHardening.Cr4PinResult == 0
            && (KernelHardening.Cr0Pinned | KernelHardening.Cr4Pinned) != 0)
            armed |= ArmedHeki;
        if (KernelHardening.Protector != null && KernelHardening.Protector.Available && KernelHardening.MemoryResult == 0) armed |= ArmedMemory;
        if (MonitorBoot.Mode == "vtl1" && MonitorBoot.LockStatus == MonitorStatus.Success) armed |= ArmedVtl1;
        return armed;
    }

    private static void FirstBoot(TestContext t)
    {
        byte armed = Armed();
        ulong page = 0;
        if ((armed & ArmedMemory) != 0)
        {
            // a spare page locked read-only and immutable: only a reset can undo that
            page = (ulong)Heap.AllocatePages(1);
            HekiRange r;
            r.GuestPhysicalStart = page;
            r.PageCount = 1;
            r.Permissions = HekiPermission.Read | HekiPermission.Immutable;
            long rc = KernelHardening.Protector.Call(&r, 1);
            if (rc != 0)
            {
                t.Fail("boot 1 locks a spare page read-only", "PROTECT_MEMORY refused");
                return;
            }
        }
        bool stored = CmosNvram.TryWrite(MagicByte, Magic) && CmosNvram.TryWrite(CounterByte, 1) && CmosNvram.TryWrite(ArmedByte, armed);
        for (int i = 0; i < 4; i++) stored &= CmosNvram.TryWrite((byte)(PageByte + i), (byte)((page >> 12) >> (8 * i)));
        CmosNvram.TryRead(CounterByte, out byte readBack);
        CmosNvram.TryRead(MagicByte, out byte magicBack);
        if (!stored || readBack != 1 || magicBack != Magic)
        {
            t.Fail("CMOS NVRAM holds the boot counter", "the NVRAM bytes do not read back");
            return;
        }
        // boot 1 reports no result lines: the transcript's results and SUMMARY are boot 2's
        t.Out.Write("  reboot: boot 1: counter 1 in CMOS, protections armed ").Hex(armed)
            .Write(", locked page ").Hex(page).Line("; asking for a reset through port 0xCF9");
        PlatformReset.ThroughResetControl();
        // still here: nothing reset the machine
        CmosNvram.TryWrite(MagicByte, 0);
        t.Fail("the reset control register resets the machine", "the write of 0x06 to port 0xCF9 returned");
    }

    private static void SecondBoot(TestContext t, byte counter)
    {
        CmosNvram.TryRead(ArmedByte, out byte armedBefore);
        ulong frame = 0;
        for (int i = 0; i < 4; i++)
        {
            CmosNvram.TryRead((byte)(PageByte + i), out byte b);
            frame |= (ulong)b << (8 * i);
        }
        // forget the run, so that a later boot starts at boot 1 again
        CmosNvram.TryWrite(MagicByte, 0);
        CmosNvram.TryWrite(CounterByte, 0);
        t.Out.Write("  reboot: boot 2: CMOS counter ").UDec(counter).Write(", boot 1 armed ").Hex(armedBefore).Line();
        t.Equal(counter, 1, "boot 2 sees CMOS counter 1");
        byte armed = Armed();
        t.Check(armedBefore != 0 || armed == 0, "boot 1 armed protections to re-arm", "boot 1 armed none, so a reboot shows nothing");
        t.Check((armed & armedBefore) == armedBefore, "boot 2 armed every protection boot 1 had again",
            "a protection boot 1 had is not armed after the reset (see the boot report)");
        if ((armedBefore & ArmedVtl1) != 0)
            t.Check((armed & ArmedVtl1) != 0, "boot 2 started a new VTL1 monitor", "the monitor did not start again");
        if (frame != 0 && (armed & ArmedMemory) != 0)
        {
            s_target = frame << 12;
            byte original = *(byte*)s_target;
            FaultRecord w = FaultProbe.Run(&WriteTarget);
            t.Check(!w.Faulted && *(byte*)s_target == (byte)(original ^ 0x5A), "the page boot 1 locked is writable after the reset",
                "a write to it faulted: a permission outlived the reset");
            *(byte*)s_target = original;
        }
        else t.Skip("the page boot 1 locked is writable after the reset", "no host memory protection on this profile");
    }

    private static void WriteTarget() => *(byte*)s_target ^= 0x5A;
}
