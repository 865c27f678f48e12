using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.Tests.Shared;

/// <summary>How a piece of guest code ended: reached its end, or raised an (undelivered) exception
/// (linked into the Heki and VSM host test projects).</summary>
internal readonly record struct GuestRun(StopReason Reason, PendingException? Pending, ulong Rip)
{
    public bool Completed => Reason == StopReason.Breakpoint;

    /// <summary>Runs already emitted code from <paramref name="at"/> until RIP reaches
    /// <paramref name="end"/> (a breakpoint, so it works at any CPL) or an exception is raised; the
    /// exception is returned undelivered (RIP still at the faulting instruction).</summary>
    public static GuestRun From(VirtualMachine vm, ulong at, ulong end, long budget)
    {
        var cpu = vm.Cpu;
        cpu.Rip = at;
        cpu.BreakAt = end;
        var reason = cpu.Run(budget);
        cpu.BreakAt = Cpu.NoBreak;
        var pending = reason == StopReason.Exception ? cpu.PendingException : null;
        cpu.ClearPendingException();
        return new GuestRun(reason, pending, cpu.Rip);
    }

    public void AssertCompleted()
    {
        Assert.True(Completed, $"expected the code to run to its end, got {Reason} {Pending?.Fault} at rip 0x{Rip:x}");
    }

    /// <summary>Asserts a fault with <paramref name="vector"/> raised by the instruction at <paramref name="rip"/> (not retired: RIP still there).</summary>
    public GuestFault AssertFault(byte vector, ulong rip)
    {
        Assert.True(Reason == StopReason.Exception && Pending is not null, $"expected vector {vector}, got {Reason} at rip 0x{Rip:x}");
        var pending = Pending!.Value;
        Assert.Equal(vector, pending.Fault.Vector);
        Assert.False(pending.IsSoftwareInterrupt);
        Assert.Equal(rip, pending.InstructionRip);
        Assert.Equal(rip, Rip);
        return pending.Fault;
    }

    /// <summary>#GP(0) at <paramref name="rip"/>.</summary>
    public void AssertGp0(ulong rip)
    {
        var fault = AssertFault(GuestFault.GeneralProtection, rip);
        Assert.True(fault.HasErrorCode);
        Assert.Equal(0u, fault.ErrorCode);
    }

    /// <summary>#UD at <paramref name="rip"/>.</summary>
    public void AssertUd(ulong rip) => AssertFault(GuestFault.InvalidOpcode, rip);
}
