using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>How a piece of guest code ended: reached its end, or raised an (undelivered) exception.</summary>
internal readonly record struct GuestRun(StopReason Reason, PendingException? Pending, ulong Rip)
{
    public void AssertCompleted() =>
        Assert.True(Reason == StopReason.Breakpoint, $"expected the code to run to its end, got {Reason} {Pending?.Fault} at rip 0x{Rip:x}");

    /// <summary>Asserts a fault with <paramref name="vector"/> raised by the instruction at <paramref name="rip"/>.</summary>
    public GuestFault AssertFault(byte vector, ulong rip)
    {
        Assert.True(Reason == StopReason.Exception && Pending is not null, $"expected vector {vector}, got {Reason} at rip 0x{Rip:x}");
        var pending = Pending!.Value;
        Assert.Equal(vector, pending.Fault.Vector);
        Assert.Equal(rip, pending.InstructionRip);
        return pending.Fault;
    }

    public void AssertGp0(ulong rip)
    {
        var fault = AssertFault(GuestFault.GeneralProtection, rip);
        Assert.True(fault.HasErrorCode);
        Assert.Equal(0u, fault.ErrorCode);
    }

    public void AssertUd(ulong rip) => AssertFault(GuestFault.InvalidOpcode, rip);
}
