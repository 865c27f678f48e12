using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 8: host userspace sees every protection change, every VSM control
/// register VTL1 sets and every intercept.</summary>
public sealed class VsmEventTests
{
    [Fact]
    public void Protection_changes_controls_and_intercepts_reach_host_userspace()
    {
        using var g = new VsmGuestMachine();
        const ulong data = 0x150000;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, data);
            a.mov(__qword_ptr[rsi], rsi);
        });
        ulong write = s.Body + 10;
        s.Protect(HvMapGpa.Read, data >> 12, (data >> 12) + 1);

        Assert.Equal(
            [(VsmProtectionScope.Default, 0UL, VsmGuestMachine.MemorySize >> 12, HvMapGpa.All), (VsmProtectionScope.Pages, data, 2UL, HvMapGpa.Read)],
            g.Events.Protections);
        Assert.Equal([(HvRegister.VsmPartitionConfig, (ulong)Vtl1Session.ProtectionConfig())], g.Events.Controls);
        var e = Assert.Single(g.Events.Intercepts);
        Assert.Equal(new VsmInterceptEvent(VsmInterceptKind.Memory, 0, write) { Gpa = data, Gva = data, Access = AccessKind.Write }, e);
        Assert.Equal(2L, g.Host.ProtectionChanges);
        Assert.Equal(1L, g.Host.InterceptCount);
        // a call that changed nothing (its only page outside RAM) is not a protection change
        s.WriteProtect(VsmGuestMachine.InputPage, 0, 0, VsmGuestMachine.MemorySize >> 12);
        s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.ModifyVtlProtectionMask, 1), VsmGuestMachine.InputPage, 0, 5));
        Assert.Equal((ulong)HvStatus.InvalidParameter, s.Result(5));
        Assert.Equal(2, g.Events.Protections.Count);
    }
}
