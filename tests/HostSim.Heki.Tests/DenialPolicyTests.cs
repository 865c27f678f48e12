using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// What a denial does (docs/abi.md section 5), through <see cref="VirtualMachine.Run"/>: inject
/// delivers the fault (#GP for CR and MSR writes, #PF with bit 31 for memory) and the guest goes
/// on; stop ends the run with kind Denied and exit code 73 at the first denial, the blocked
/// action not done.
/// </summary>
public sealed class DenialPolicyTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong P = 0x150000;
    private const ulong Marker = 0x5555_AAAA_5555_AAAA;
    private const ulong Cr4Pinned = 0x620 | 0x100000;   // PAE OSFXSR OSXMMEXCPT SMEP

    /// <summary>A guest program whose one blocked action is of <paramref name="kind"/>, followed
    /// by a clean debug-exit with value 0x11 (exit code 0x23) if the guest gets past it.</summary>
    private sealed record Scenario(ulong Start, ulong BlockedRip, byte? Vector, uint ErrorCode, DenialKind Kind);

    private static Scenario Build(HekiGuestMachine g, string kind)
    {
        g.HandlersExitWithTheirVector();
        g.WriteU64(P, Marker);
        switch (kind)
        {
            case "cr-write":
            {
                Assert.Null(g.Host.Pins.TryGuestSet(4, high: true, Smep));
                g.Cpu.Cr4 = Cr4Pinned;
                ulong blocked = g.Emit(Code, a => a.mov(rax, 0x620UL));
                g.Emit(blocked, a => { a.mov(cr4, rax); Exit(a); });
                return new Scenario(Code, blocked, GuestFault.GeneralProtection, 0, DenialKind.CrWrite);
            }
            case "msr-write":
            {
                Assert.Null(g.Host.Pins.TryGuestSet(4, high: true, Smep));     // WRMSR 0 would clear it
                ulong blocked = g.Emit(Code, a => { a.mov(ecx, MsrBase + Cr4PinnedHigh); a.xor(eax, eax); a.xor(edx, edx); });
                g.Emit(blocked, a => { a.wrmsr(); Exit(a); });
                return new Scenario(Code, blocked, GuestFault.GeneralProtection, 0, DenialKind.MsrWrite);
            }
            case "memory-write":
            {
                Assert.Equal(0, g.ProtectMemory((P, 1, R)));
                ulong blocked = g.Emit(Code, a => a.mov(rbx, P));
                g.Emit(blocked, a => { a.mov(__qword_ptr[rbx], rbx); Exit(a); });
                return new Scenario(Code, blocked, GuestFault.PageFault, PfP | PfW | PfHost, DenialKind.Memory);
            }
            case "memory-read":
            {
                Assert.Equal(0, g.ProtectMemory((P, 1, W)));
                ulong blocked = g.Emit(Code, a => a.mov(rbx, P));
                g.Emit(blocked, a => { a.mov(rcx, __qword_ptr[rbx]); Exit(a); });
                return new Scenario(Code, blocked, GuestFault.PageFault, PfP | PfHost, DenialKind.Memory);
            }
            case "memory-execute":
            {
                Assert.Equal(0, g.ProtectMemory((P, 1, R | W)));
                g.Emit(P + 0x100, Exit);
                g.Emit(Code, a => { a.mov(rbx, P + 0x100); a.jmp(rbx); });
                return new Scenario(Code, P + 0x100, GuestFault.PageFault, PfId | PfP | PfHost, DenialKind.Memory);
            }
            case "protect-memory":
            {
                Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));
                g.WriteRanges(HekiGuestMachine.RangeArray, (P, 1, R | W | Immutable));
                ulong blocked = g.Emit(Code, a =>
                {
                    a.mov(eax, HypercallBase + 2); a.mov(ebx, (uint)HekiGuestMachine.RangeArray);
                    a.mov(ecx, 1); a.xor(edx, edx);
                });
                g.Emit(blocked, a => { a.vmcall(); a.mov(rsi, rax); Exit(a); });
                return new Scenario(Code, blocked, null, 0, DenialKind.ProtectMemory);
            }
            case "hypercall":
            {
                g.EnterUserMode();
                ulong blocked = g.Emit(HekiGuestMachine.UserCode, a => a.mov(eax, HypercallBase));
                g.Emit(blocked, a => { a.vmcall(); a.mov(rsi, rax); a.ud2(); });
                return new Scenario(HekiGuestMachine.UserCode, blocked, null, 0, DenialKind.Hypercall);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static void Exit(Iced.Intel.Assembler a)
    {
        a.mov(al, 0x11);
        a.@out(0xF4, al);
        a.hlt();
    }

    private static MachineOutcome Run(HekiGuestMachine g, ulong start)
    {
        g.Cpu.Rip = start;
        return g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(30), 10_000));
    }

    public static TheoryData<string> Kinds => new() { "cr-write", "msr-write", "memory-write", "memory-read", "memory-execute", "protect-memory", "hypercall" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Stop_ends_the_run_as_denied_with_exit_code_73_and_the_action_not_done(string kind)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Stop });
        var s = Build(g, kind);
        ulong cr4 = g.Cpu.Cr4;
        var pinsBefore = (g.Host.Pins.Cr4PinnedHigh, g.Host.Pins.Cr4PinnedLow);
        var permissionsBefore = g.Host.Permissions.PermissionsOf(P);

        var outcome = Run(g, s.Start);

        Assert.Equal(MachineStopKind.Denied, outcome.Kind);
        Assert.Equal(73, outcome.ExitCode);
        Assert.True(outcome.IsCrash);
        Assert.Null(g.Vm.DebugExit.Value);                                  // neither a handler nor the exit ran
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(s.Kind, d.Kind);
        Assert.Equal(s.BlockedRip, d.Rip);
        Assert.Same(d, g.Host.StoppedBy);
        Assert.Equal(cr4, g.Cpu.Cr4);
        Assert.Equal(Marker, g.ReadU64(P));
        Assert.Equal(pinsBefore, (g.Host.Pins.Cr4PinnedHigh, g.Host.Pins.Cr4PinnedLow));
        Assert.Equal(permissionsBefore, g.Host.Permissions.PermissionsOf(P));
        if (s.Vector is not null) Assert.Equal(s.BlockedRip, g.Cpu.Rip);    // faulting instruction not retired
        else Assert.Equal(s.BlockedRip + 3, g.Cpu.Rip);                     // stopped right after the refused call
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RSI]);                        // ... before the guest could look at the result
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Inject_delivers_the_fault_or_the_error_and_the_guest_goes_on(string kind)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Inject });
        var s = Build(g, kind);

        var outcome = Run(g, s.Start);

        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Null(g.Host.StoppedBy);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(s.Kind, d.Kind);
        Assert.Equal(Marker, g.ReadU64(P));
        if (s.Vector is { } vector)
        {
            // The handler for the vector ran; the frame holds the error code and the faulting RIP.
            Assert.Equal((vector << 1) | 1, outcome.ExitCode);
            var frame = g.Frame(2);
            Assert.Equal((ulong)s.ErrorCode, frame[0]);
            Assert.Equal(s.BlockedRip, frame[1]);
            if (vector == GuestFault.PageFault)
                Assert.Equal(s.Kind == DenialKind.Memory && kind == "memory-execute" ? P + 0x100 : P, g.Cpu.Cr2);
        }
        else if (kind == "protect-memory")
        {
            Assert.Equal((0x11 << 1) | 1, outcome.ExitCode);                // the guest went on to its exit
            Assert.Equal(unchecked((ulong)EPerm), g.Cpu.Gpr[Processor.RSI]);
        }
        else
        {
            Assert.Equal((GuestFault.InvalidOpcode << 1) | 1, outcome.ExitCode);   // went on to its UD2
            Assert.Equal(unchecked((ulong)EPerm), g.Cpu.Gpr[Processor.RSI]);
        }
    }

    [Fact]
    public void Stop_happens_at_the_first_denial_of_several()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Stop, PrePinCr4 = Smep });
        g.HandlersExitWithTheirVector();
        g.Cpu.Cr4 = Cr4Pinned;
        g.WriteU64(P, Marker);
        Assert.Equal(0, g.ProtectMemory((P, 1, R)));
        ulong first = g.Emit(Code, a => a.mov(rbx, P));
        g.Emit(first, a =>
        {
            a.mov(__qword_ptr[rbx], rbx);          // first denial
            a.mov(rax, 0x620UL);
            a.mov(cr4, rax);                        // would be the second
            Exit(a);
        });
        var outcome = Run(g, Code);
        Assert.Equal(MachineStopKind.Denied, outcome.Kind);
        Assert.Equal(MachineOutcome.ExitDenied, outcome.ExitCode);
        Assert.Equal(DenialKind.Memory, Assert.Single(g.Events.Denials).Kind);
        Assert.Equal(Cr4Pinned, g.Cpu.Cr4);
        Assert.Equal(Marker, g.ReadU64(P));
        Assert.Equal(first, g.Cpu.Rip);
        Assert.Contains("memory", outcome.Summary);
    }

    [Fact]
    public void Accepted_actions_do_not_stop_a_stop_policy_vm()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { OnDenial = DenialPolicy.Stop });
        g.HandlersExitWithTheirVector();
        g.WriteRanges(HekiGuestMachine.RangeArray, (P, 1, R | Immutable));
        g.Emit(Code, a =>
        {
            a.mov(ecx, MsrBase + Cr4PinnedHigh); a.mov(eax, (uint)Smep); a.xor(edx, edx); a.wrmsr();
            a.mov(rax, Cr4Pinned); a.mov(cr4, rax);
            a.mov(eax, HypercallBase + 1); a.mov(ebx, 0); a.mov(ecx, (uint)Wp); a.xor(edx, edx); a.vmcall();
            a.mov(eax, HypercallBase + 2); a.mov(ebx, (uint)HekiGuestMachine.RangeArray); a.mov(ecx, 1); a.xor(edx, edx); a.vmcall();
            a.mov(rbx, P); a.mov(rcx, __qword_ptr[rbx]);
            Exit(a);
        });
        var outcome = Run(g, Code);
        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal(0x23, outcome.ExitCode);
        Assert.Empty(g.Events.Denials);
        Assert.Equal(3, g.Events.Configures.Count);
    }
}
