using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>
/// HekiGuest's RemoveVtl1 extension hypercall (docs/vtl.md section 17, not in the TLFS): VTL1 asks
/// the host to remove it before a kexec; the host zeroes VTL1's private pages, drops VTL1 and its
/// protections and resumes VTL0 at the context given. Only VTL1 may ask; host userspace may refuse.
/// </summary>
public sealed class RemoveVtl1Tests
{
    private const ulong Secret = 0x60000, Resume = 0x38000, Removal = HekiHvExtension.RemoveVtl1 | HvHypercallInput.Fast;
    private const byte Resumed = 0x5A;

    /// <summary>VTL1 hides <see cref="Secret"/> (holding a value), VTL0 calls VTL1 again, and VTL1 is left at its entry.</summary>
    private static Vtl1Session Vtl1HidingASecret(VsmGuestMachine g)
    {
        var s = Vtl1Session.Start(g, Vtl1Session.VtlCall);
        g.WriteU64(Secret, 0x5EC2E7_5EC2E7UL);
        g.Emit(Resume, a => { a.mov(r12, rax); a.mov(r13, rsp); a.mov(al, Resumed); a.@out(0xF4, al); a.hlt(); });
        s.Protect(HvMapGpa.None, Secret >> 12);
        Assert.Equal(1, g.Host.CurrentVtl);
        return s;
    }

    [Fact]
    public void Vtl1_removes_itself_its_pages_are_zeroed_and_vtl0_resumes_at_the_context_given()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1HidingASecret(g);
        Assert.True(g.Host.Partition.Vtl0Protections.Denies(Secret, HvMapGpa.Read));

        var outcome = s.Answer(a => Vtl1Session.Hypercall(a, Removal, Resume, VsmGuestMachine.StackTop - 0x100, 0));

        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal((uint)Resumed, g.Vm.DebugExit.Value);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.False(g.Host.Partition.IsEnabled(1));
        Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
        Assert.False(g.Host.Partition.Vtl0Protections.Denies(Secret, HvMapGpa.Read));
        Assert.Equal(0UL, g.ReadU64(Secret));
        Assert.Equal(0UL, g.Cpu.Gpr[12]);                                  // RAX: success
        Assert.Equal(VsmGuestMachine.StackTop - 0x100, g.Cpu.Gpr[13]);
        Assert.Equal(VsmVtlEvent.Vtl1Removed, g.Events.VtlChanges[^1].Kind);
        Assert.Equal(1L, g.Host.VtlEventCounts[VsmVtlEvent.Vtl1Removed]);
        // VTL1 is gone: a VTL call from VTL0 now #UDs, and VTL1 can be enabled again
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
    }

    [Fact]
    public void Host_userspace_can_refuse_and_vtl1_keeps_running_with_access_denied()
    {
        using var g = new VsmGuestMachine();
        g.Host.Vtl1RemovalAllowed = () => false;
        var s = Vtl1HidingASecret(g);

        s.Answer(a => Vtl1Session.Hypercall(a, Removal, Resume, VsmGuestMachine.StackTop, 0));

        Assert.Equal((ulong)HvStatus.AccessDenied, s.Result(0));
        Assert.True(g.Host.Partition.IsEnabled(1));
        Assert.Equal(0x5EC2E7_5EC2E7UL, g.ReadU64(Secret));
        Assert.True(g.Host.Partition.Vtl0Protections.Denies(Secret, HvMapGpa.Read));
        Assert.Equal(1L, g.Host.VtlEventCounts[VsmVtlEvent.Vtl1RemovalDenied]);
        Assert.False(g.Host.VtlEventCounts.ContainsKey(VsmVtlEvent.Vtl1Removed));
    }

    [Theory]
    [InlineData(HekiHvExtension.RemoveVtl1, Resume, VsmGuestMachine.StackTop, HvStatus.InvalidHypercallInput)]           // not fast
    [InlineData(Removal, 0x0000_8000_0000_0000UL, VsmGuestMachine.StackTop, HvStatus.InvalidParameter)]                // RIP not canonical
    [InlineData(Removal, Resume, 0xFFFF_7FFF_FFFF_0000UL, HvStatus.InvalidParameter)]                                  // RSP not canonical
    [InlineData(Removal | (1UL << 32), Resume, VsmGuestMachine.StackTop, HvStatus.InvalidHypercallInput)]              // a rep count
    public void Malformed_requests_from_vtl1_are_refused_and_change_nothing(ulong input, ulong rip, ulong rsp, ushort status)
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1HidingASecret(g);
        s.Answer(a => Vtl1Session.Hypercall(a, input, rip, rsp, 0));
        Assert.Equal((ulong)status, s.Result(0));
        Assert.True(g.Host.Partition.IsEnabled(1));
        Assert.Equal(0x5EC2E7_5EC2E7UL, g.ReadU64(Secret));
    }

    [Fact]
    public void Vtl0_cannot_remove_vtl1()
    {
        using var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Removal, Resume, VsmGuestMachine.StackTop));
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        Assert.Equal((ulong)HvStatus.AccessDenied, g.CallHypercallPage(Removal, Resume, VsmGuestMachine.StackTop));
        Assert.True(g.Host.Partition.IsEnabled(1));
    }
}
