using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.HostSim.Machine.Execution;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// VMM notifications (docs/abi.md section 5): a configure event for every accepted lock, a
/// denial event for every blocked action with the fields of its kind, exactly once, in order.
/// </summary>
public sealed class EventTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong P = 0x150000;

    [Fact]
    public void Msr_pins_report_source_msr_with_the_full_masks_after_the_change()
    {
        using var g = new HekiGuestMachine();
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep).AssertCompleted();
        g.Wrmsr(MsrBase + Cr4PinnedLow, Umip).AssertCompleted();
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep | Smap).AssertCompleted();
        g.Wrmsr(MsrBase + Cr0PinnedHigh, Wp).AssertCompleted();

        Assert.Equal(
            [
                (ConfigureSource.Msr, 4, Smep, 0UL),
                (ConfigureSource.Msr, 4, Smep, Umip),
                (ConfigureSource.Msr, 4, Smep | Smap, Umip),
                (ConfigureSource.Msr, 0, Wp, 0UL),
            ],
            g.Events.Configures.Select(e => (e.Source, e.Cr!.Value, e.PinnedHigh!.Value, e.PinnedLow!.Value)).ToArray());
        Assert.All(g.Events.Configures, e => Assert.Equal(Code, e.Rip));
        Assert.All(g.Events.Configures, e => Assert.Equal(HekiHost.Vcpu, e.Vcpu));
        Assert.All(g.Events.Configures, e => Assert.Null(e.Ranges));
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Msr_pins_under_cr_pin_2020_report_source_msr_too()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.CrPin2020 });
        g.Wrmsr(CrPin2020MsrBase + Cr0PinnedLow, Wp).AssertCompleted();
        var e = Assert.Single(g.Events.Configures);
        Assert.Equal((ConfigureSource.Msr, 0, 0UL, Wp), (e.Source, e.Cr!.Value, e.PinnedHigh!.Value, e.PinnedLow!.Value));
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, 0x48450001UL)]
    [InlineData(HekiHostProfile.HekiV3, 13UL)]
    public void Lock_cr_reports_source_hypercall(HekiHostProfile profile, ulong nr)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = profile });
        g.Host.Pins.HostSet(4, high: false, Umip);
        Assert.Equal(0, g.Hypercall(nr, 4, Smap, 0));
        Assert.Equal(1, g.Hypercall(nr, 0, 0, 1));                    // a version query is not a lock
        var e = Assert.Single(g.Events.Configures);
        Assert.Equal(ConfigureSource.Hypercall, e.Source);
        Assert.Equal(4, e.Cr);
        Assert.Equal(Smap, e.PinnedHigh);
        Assert.Equal(Umip, e.PinnedLow);
        Assert.Equal(Code, e.Rip);
    }

    [Fact]
    public void Protect_memory_reports_its_ranges()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 2, R | X | Immutable), (0x300000, 16, R | W)));
        var e = Assert.Single(g.Events.Configures);
        Assert.Equal(ConfigureSource.Hypercall, e.Source);
        Assert.Equal(Code, e.Rip);
        Assert.Null(e.Cr);
        Assert.Equal([new ProtectedRange(P, 2, R | X | Immutable), new ProtectedRange(0x300000, 16, R | W)], e.Ranges!);
    }

    [Fact]
    public void Host_pre_pins_report_source_host_in_the_constructor()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { PrePinCr0 = Wp, PrePinCr4 = Smep | Umip });
        Assert.Equal(
            [(ConfigureSource.Host, 0, Wp, 0UL), (ConfigureSource.Host, 4, Smep | Umip, 0UL)],
            g.Events.Configures.Select(e => (e.Source, e.Cr!.Value, e.PinnedHigh!.Value, e.PinnedLow!.Value)).ToArray());
        Assert.All(g.Events.Configures, e => Assert.Equal(0UL, e.Rip));
        Assert.Empty(g.Events.Denials);
        Assert.Equal(2, g.Host.ConfigureCount);
    }

    [Fact]
    public void Cr_write_denial_has_cr_and_the_attempted_value()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { PrePinCr0 = Wp });
        g.Cpu.Cr0 |= Wp;
        g.WriteCr(0, 0x80000033).AssertGp0(Code);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.CrWrite, d.Kind);
        Assert.Equal(0, d.Cr);
        Assert.Equal(0x80000033UL, d.Value);
        Assert.Equal(Code, d.Rip);
        Assert.Null(d.Msr);
        Assert.Null(d.Gpa);
        Assert.Equal("cr-write", DenialKinds.Name(d.Kind));
    }

    [Theory]
    [InlineData(0x48454B00u, 0x10000UL)]                 // ALLOWED is read-only
    [InlineData(0x48454B05u, 0x20UL)]                    // outside ALLOWED
    [InlineData(0x48454B05u, 0x1_0010_0000UL)]           // EDX half
    public void Msr_write_denial_has_msr_and_the_value(uint msr, ulong value)
    {
        using var g = new HekiGuestMachine();
        g.Wrmsr(msr, value).AssertGp0(Code);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.MsrWrite, d.Kind);
        Assert.Equal(msr, d.Msr);
        Assert.Equal(value, d.Value);
        Assert.Equal(Code, d.Rip);
        Assert.Null(d.Cr);
        Assert.Equal("msr-write", DenialKinds.Name(d.Kind));
    }

    [Fact]
    public void Clearing_a_pin_through_the_msr_is_an_msr_write_denial()
    {
        using var g = new HekiGuestMachine();
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep | Smap).AssertCompleted();
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smap).AssertGp0(Code);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal((DenialKind.MsrWrite, MsrBase + Cr4PinnedHigh, Smap), (d.Kind, d.Msr!.Value, d.Value!.Value));
        Assert.Single(g.Events.Configures);
    }

    [Theory]
    [InlineData(false, AccessKind.Read, "read")]
    [InlineData(false, AccessKind.Write, "write")]
    [InlineData(true, AccessKind.Execute, "execute")]
    public void Memory_denial_has_gpa_gva_and_access(bool fetch, AccessKind access, string name)
    {
        using var g = new HekiGuestMachine();
        const ulong alias = HekiGuestMachine.AliasBase + 0x3000;
        g.MapAlias(alias, P);
        g.Emit(P + 0x40, a => a.nop());
        Assert.Equal(0, g.ProtectMemory((P, 1, fetch ? R | W : access == AccessKind.Read ? W | X : R | X)));
        g.Cpu.Gpr[Processor.RBX] = alias + 0x40;
        var run = g.Execute(a =>
        {
            if (fetch) a.jmp(rbx);
            else if (access == AccessKind.Read) a.mov(rax, __qword_ptr[rbx]);
            else a.mov(__qword_ptr[rbx], rax);
        });
        run.AssertFault(GuestFault.PageFault, fetch ? alias + 0x40 : Code);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.Memory, d.Kind);
        Assert.Equal(P + 0x40, d.Gpa);
        Assert.Equal(alias + 0x40, d.Gva);
        Assert.Equal(access, d.Access);
        Assert.Equal(name, GuestAccess.Name(d.Access!.Value));
        Assert.Equal(fetch ? alias + 0x40 : Code, d.Rip);
        Assert.Null(d.Value);
    }

    [Fact]
    public void Refused_protect_memory_is_a_protect_memory_denial_with_error_eperm()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R | W | Immutable)));
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.ProtectMemory, d.Kind);
        Assert.Equal(EPerm, d.Error);
        Assert.Equal(ProtectMemory, d.Hypercall);
        Assert.Equal(Code, d.Rip);
        Assert.Equal("protect-memory", DenialKinds.Name(d.Kind));
        Assert.Single(g.Events.Configures);                             // only the accepted call
    }

    [Fact]
    public void Invalid_arguments_are_errors_not_denials_and_configure_nothing()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(EInval, g.ProtectMemory((P + 1, 1, R)));
        Assert.Equal(EInval, g.Hypercall(LockCr, 3, Wp, 0));
        Assert.Equal(ENoSys, g.Hypercall(0x4845_0009));
        Assert.Empty(g.Events.All);
        Assert.Equal(0, g.Host.DenialCount);
        Assert.Equal(0, g.Host.ConfigureCount);
    }

    [Fact]
    public void A_sequence_of_actions_reports_each_blocked_one_exactly_once_in_order()
    {
        using var g = new HekiGuestMachine();
        // accepted: MSR pin, LOCK_CR, PROTECT_MEMORY, an allowed CR write, allowed accesses
        g.Wrmsr(MsrBase + Cr0PinnedHigh, Wp).AssertCompleted();
        Assert.Equal(0, g.Hypercall(LockCr, 4, Smep, 0));
        Assert.Equal(0, g.ProtectMemory((P, 1, R | Immutable)));
        g.WriteCr(4, 0x620 | Smep).AssertCompleted();
        g.Cpu.Gpr[Processor.RBX] = P;
        g.Execute(a => a.mov(rax, __qword_ptr[rbx])).AssertCompleted();
        Assert.Empty(g.Events.Denials);
        Assert.Equal(3, g.Events.Configures.Count);

        // blocked: one of each kind
        g.WriteCr(4, 0x620).AssertGp0(Code);
        g.Wrmsr(MsrBase + Cr0PinnedHigh, 0).AssertGp0(Code);
        g.Cpu.Gpr[Processor.RBX] = P;
        g.Execute(a => a.mov(__qword_ptr[rbx], rax)).AssertFault(GuestFault.PageFault, Code);
        Assert.Equal(EPerm, g.ProtectMemory((P, 1, R)));
        g.EnterUserMode();
        Assert.Equal(EPerm, g.Hypercall(VersionCall, at: HekiGuestMachine.UserCode));

        Assert.Equal(
            [DenialKind.CrWrite, DenialKind.MsrWrite, DenialKind.Memory, DenialKind.ProtectMemory, DenialKind.Hypercall],
            g.Events.Denials.Select(d => d.Kind).ToArray());
        Assert.Equal(5, g.Host.DenialCount);
        Assert.Equal(3, g.Host.ConfigureCount);
        Assert.Equal(8, g.Events.All.Count);
        Assert.IsType<ConfigureEvent>(g.Events.All[2]);
        Assert.IsType<DenialEvent>(g.Events.All[3]);
    }

    [Fact]
    public void A_denied_access_delivered_to_the_guest_and_retried_is_a_new_blocked_action_each_time()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 1, R)));
        g.Cpu.Gpr[Processor.RBX] = P;
        for (int i = 1; i <= 3; i++)
        {
            g.Execute(a => a.mov(__qword_ptr[rbx], rax)).AssertFault(GuestFault.PageFault, Code);
            Assert.Equal(i, g.Events.Denials.Count);
        }
    }

    [Fact]
    public void Without_a_sink_the_host_still_counts()
    {
        using var vm = new VirtualMachine(1 << 20, _ => { });
        var host = new HekiHost(vm, new HekiHostOptions { PrePinCr4 = Smep });
        Assert.Equal(1, host.ConfigureCount);
        Assert.Equal(Smep, host.Pins.Cr4PinnedHigh);
    }
}
