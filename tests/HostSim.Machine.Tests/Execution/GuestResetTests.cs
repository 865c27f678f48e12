using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;
using HekiGuest.HostSim.Machine.Tests.Loading;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>A guest's reset request stops the run with <see cref="MachineStopKind.GuestReset"/>
/// (host userspace decides); a <see cref="VirtualMachine.Reset"/> boots the same image again and
/// the CMOS NVRAM keeps what the guest left there.</summary>
public sealed class GuestResetTests
{
    /// <summary>Counts its boots in CMOS byte 0x7F; below <paramref name="boots"/> it asks for a
    /// reset through <paramref name="request"/>, else exits with the count. After a request that
    /// did not reset it exits with 0xEE.</summary>
    private static byte[] CountingGuest(int boots, Action<Assembler> request) => ElfImageBuilder.Multiboot1Kernel(a =>
    {
        var done = a.CreateLabel();
        a.mov(al, 0x7F); a.@out(0x70, al); a.@in(al, 0x71);
        a.inc(al); a.mov(bl, al);
        a.mov(al, 0x7F); a.@out(0x70, al); a.mov(al, bl); a.@out(0x71, al);
        a.cmp(bl, (byte)boots); a.jae(done);
        request(a);
        a.mov(al, 0xEE); a.@out(0xF4, al); a.hlt();
        a.Label(ref done);
        a.mov(al, bl); a.@out(0xF4, al); a.hlt();
    });

    private static void ThroughCf9(Assembler a)
    {
        a.mov(dx, 0xCF9);
        a.mov(al, 0x02); a.@out(dx, al);
        a.mov(al, 0x06); a.@out(dx, al);
    }

    private static void Through8042(Assembler a)
    {
        a.mov(al, 0xFE); a.@out(0x64, al);
    }

    public static TheoryData<string, string> Requests => new()
    {
        { "cf9", "guest reset request: port 0xcf9 value 0x06 (hard reset)" },
        { "8042", "guest reset request: port 0x64 command 0xfe (8042 pulses the reset line)" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Each_request_stops_the_run_and_a_reset_boots_again_with_cmos_kept(string via, string summary)
    {
        using var vm = new VirtualMachine(8 << 20, _ => { });
        vm.Boot(CountingGuest(3, via == "cf9" ? ThroughCf9 : Through8042), "", [], BootProtocol.Multiboot1);
        for (int boot = 1; boot <= 2; boot++)
        {
            var o = vm.Run(new RunLimits(null, 10_000));
            Assert.Equal(MachineStopKind.GuestReset, o.Kind);
            Assert.Equal(MachineOutcome.ExitGuestReset, o.ExitCode);
            Assert.Equal(summary, o.Summary);
            Assert.False(o.IsCrash);
            Assert.Equal(boot, vm.Cmos[0x7F]);
            vm.Reset();
        }
        var last = vm.Run(new RunLimits(null, 10_000));
        Assert.Equal(MachineStopKind.GuestExit, last.Kind);
        Assert.Equal((3 << 1) | 1, last.ExitCode);
        Assert.Equal(2, vm.Resets);
    }

    [Fact]
    public void The_requesting_out_completes_and_a_host_that_does_not_reset_lets_the_guest_go_on()
    {
        using var vm = new VirtualMachine(8 << 20, _ => { });
        vm.Boot(CountingGuest(2, ThroughCf9), "", [], BootProtocol.Multiboot1);
        Assert.Equal(MachineStopKind.GuestReset, vm.Run(new RunLimits(null, 10_000)).Kind);
        var next = vm.Run(new RunLimits(null, 10_000));
        Assert.Equal(MachineStopKind.GuestExit, next.Kind);
        Assert.Equal(((0xEE << 1) | 1) & 0xFF, next.ExitCode);   // a process exit code is a byte
    }
}
