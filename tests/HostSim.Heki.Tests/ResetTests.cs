using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;
using Iced.Intel;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// VM reset (docs/abi.md sections 2 and 5): every guest pin and every memory permission goes,
/// host pre-pins stay, and the next boot of the same kernel runs unblocked. The kernel is a tiny
/// multiboot1 ELF32 built here; it counts its boots in a RAM word outside its image (RAM survives
/// a reset) and behaves differently on the first and later boots.
/// </summary>
public sealed class ResetTests
{
    private const uint Counter = 0x300000, Protected = 0x301000, RangeArray = 0x302000, Results = 0x303000;
    private const ulong MemorySize = 4 << 20;

    /// <summary>
    /// Every CR4 write keeps SMAP set (a host pre-pin in one test).
    /// First boot: set and pin CR4.SMEP (WRMSR), pin CR4.UMIP low and CR0.WP high through
    /// LOCK_CR, protect <see cref="Protected"/> read-only and immutable; results at
    /// <see cref="Results"/>; then <paramref name="firstBootTail"/> and debug-exit 1 (exit code 3).
    /// Later boots: clear CR4.SMEP, set CR4.UMIP, write the protected page, read the pins back
    /// through RDMSR; debug-exit 2 (exit code 5).
    /// </summary>
    private static byte[] Kernel(Action<Assembler>? firstBootTail = null) => Multiboot1Image.Build(a =>
    {
        var second = a.CreateLabel();
        a.mov(eax, __dword_ptr[(ulong)Counter]);
        a.inc(__dword_ptr[(ulong)Counter]);
        a.test(eax, eax);
        a.jnz(second);

        a.mov(eax, cr4); a.or(eax, (int)(Smep | Smap)); a.mov(cr4, eax);
        a.mov(ecx, MsrBase + Cr4PinnedHigh); a.rdmsr(); a.or(eax, (int)Smep); a.wrmsr();     // add to what is pinned
        a.mov(ecx, MsrBase + Cr4PinnedLow); a.mov(eax, (uint)Umip); a.xor(edx, edx); a.wrmsr();
        a.mov(eax, HypercallBase + 1); a.xor(ebx, ebx); a.mov(ecx, (uint)Wp); a.xor(edx, edx); a.vmcall();
        a.mov(__dword_ptr[(ulong)Results], eax);
        a.mov(__dword_ptr[(ulong)RangeArray], Protected);
        a.mov(__dword_ptr[(ulong)RangeArray + 4], 0);
        a.mov(__dword_ptr[(ulong)RangeArray + 8], 1);
        a.mov(__dword_ptr[(ulong)RangeArray + 12], 0);
        a.mov(__dword_ptr[(ulong)RangeArray + 16], (uint)(R | Immutable));
        a.mov(__dword_ptr[(ulong)RangeArray + 20], 0);
        a.mov(eax, HypercallBase + 2); a.mov(ebx, RangeArray); a.mov(ecx, 1); a.xor(edx, edx); a.vmcall();
        a.mov(__dword_ptr[(ulong)Results + 4], eax);
        firstBootTail?.Invoke(a);
        a.mov(al, 1); a.@out(0xF4, al); a.hlt();

        a.Label(ref second);
        a.mov(eax, cr4); a.and(eax, ~(int)Smep); a.or(eax, (int)(Umip | Smap)); a.mov(cr4, eax);
        a.mov(__dword_ptr[(ulong)Protected], 0xC0FFEE);
        a.mov(ecx, MsrBase + Cr0PinnedHigh); a.rdmsr(); a.mov(__dword_ptr[(ulong)Results + 8], eax);
        a.mov(ecx, MsrBase + Cr4PinnedHigh); a.rdmsr(); a.mov(__dword_ptr[(ulong)Results + 12], eax);
        a.mov(ecx, MsrBase + Cr4PinnedLow); a.rdmsr(); a.mov(__dword_ptr[(ulong)Results + 16], eax);
        a.mov(al, 2); a.@out(0xF4, al); a.hlt();
    });

    private static uint U32(VirtualMachine vm, ulong at) => BitConverter.ToUInt32(vm.Memory.Slice(at, 4));

    private static MachineOutcome Run(VirtualMachine vm) => vm.Run(new RunLimits(TimeSpan.FromSeconds(30), 100_000));

    [Fact]
    public void Reset_clears_guest_pins_and_permissions_keeps_host_pre_pins_and_the_next_boot_runs_unblocked()
    {
        var events = new RecordingEventSink();
        using var vm = new VirtualMachine(MemorySize, _ => { });
        var host = new HekiHost(vm, new HekiHostOptions { OnDenial = DenialPolicy.Stop, PrePinCr4 = Smap, Events = events });
        vm.Boot(Kernel(), "", [], BootProtocol.Multiboot1);

        var first = Run(vm);
        Assert.Equal(MachineStopKind.GuestExit, first.Kind);
        Assert.Equal(3, first.ExitCode);
        Assert.Equal(0u, U32(vm, Results));                       // LOCK_CR
        Assert.Equal(0u, U32(vm, Results + 4));                   // PROTECT_MEMORY
        Assert.Equal(Smep | Smap, host.Pins.Cr4PinnedHigh);
        Assert.Equal(Umip, host.Pins.Cr4PinnedLow);
        Assert.Equal(Wp, host.Pins.Cr0PinnedHigh);
        Assert.Equal(R | Immutable, host.Permissions.PermissionsOf(Protected));

        var kernel = vm.Reset();

        Assert.Equal(1, vm.Resets);
        Assert.Equal(Multiboot1Image.Entry, kernel.EntryPoint);
        Assert.Equal((ulong)Multiboot1Image.Entry, vm.Cpu.Rip);
        Assert.Equal(0UL, host.Pins.Cr0PinnedHigh);
        Assert.Equal(0UL, host.Pins.Cr4PinnedLow);
        Assert.Equal(Smap, host.Pins.Cr4PinnedHigh);              // the host's own pin is put back
        Assert.True(host.Permissions.IsEmpty);
        Assert.Equal(0, host.Permissions.RangeCount);
        Assert.Null(host.Permissions.PermissionsOf(Protected));

        var second = Run(vm);
        Assert.Equal(MachineStopKind.GuestExit, second.Kind);
        Assert.Equal(5, second.ExitCode);
        Assert.Empty(events.Denials);
        Assert.Equal(0xC0FFEEu, U32(vm, Protected));
        Assert.Equal(0u, U32(vm, Results + 8));                   // CR0 pinned high: the guest's WP pin is gone
        Assert.Equal((uint)Smap, U32(vm, Results + 12));          // CR4 pinned high: only the host's SMAP
        Assert.Equal(0u, U32(vm, Results + 16));                  // CR4 pinned low: gone
        Assert.Equal(0UL, vm.Cpu.Cr4 & Smep);
        Assert.Equal(Umip, vm.Cpu.Cr4 & Umip);
        Assert.Equal(2u, U32(vm, Counter));

        // The host's pre-pin was reported at construction and again at the reset, as source host.
        var hostEvents = events.Configures.Where(e => e.Source == ConfigureSource.Host).ToList();
        Assert.Equal(2, hostEvents.Count);
        Assert.All(hostEvents, e => Assert.Equal((4, Smap), (e.Cr!.Value, e.PinnedHigh!.Value)));
        Assert.IsType<ConfigureEvent>(events.All[^1]);            // the reset's host event comes last
    }

    [Fact]
    public void A_vm_stopped_by_a_denial_runs_again_after_reset()
    {
        var events = new RecordingEventSink();
        using var vm = new VirtualMachine(MemorySize, _ => { });
        var host = new HekiHost(vm, new HekiHostOptions { OnDenial = DenialPolicy.Stop, Events = events });
        // On the first boot, also try to write the page it just protected: denied, the VM stops.
        vm.Boot(Kernel(a => a.mov(__dword_ptr[(ulong)Protected], 1)), "", [], BootProtocol.Multiboot1);

        var first = Run(vm);
        Assert.Equal(MachineStopKind.Denied, first.Kind);
        Assert.Equal(73, first.ExitCode);
        Assert.NotNull(host.StoppedBy);
        Assert.Equal(DenialKind.Memory, host.StoppedBy!.Kind);
        Assert.Equal((ulong)Protected, host.StoppedBy.Gpa);
        Assert.Equal(0u, U32(vm, Protected));

        vm.Reset();
        Assert.Null(host.StoppedBy);

        var second = Run(vm);
        Assert.Equal(MachineStopKind.GuestExit, second.Kind);
        Assert.Equal(5, second.ExitCode);
        Assert.Single(events.Denials);
        Assert.Equal(0xC0FFEEu, U32(vm, Protected));
    }

    [Fact]
    public void Reset_drops_immutable_protections_too()
    {
        using var vm = new VirtualMachine(MemorySize, _ => { });
        var host = new HekiHost(vm, new HekiHostOptions());
        vm.Boot(Kernel(), "", [], BootProtocol.Multiboot1);
        Assert.Equal(3, Run(vm).ExitCode);
        Assert.True(host.Permissions.PermissionsOf(Protected) is { } p && (p & Immutable) != 0);
        host.Reset();
        Assert.True(host.Permissions.IsEmpty);
        Assert.Equal(0UL, host.Pins.Cr4PinnedHigh | host.Pins.Cr4PinnedLow | host.Pins.Cr0PinnedHigh | host.Pins.Cr0PinnedLow);
    }
}
