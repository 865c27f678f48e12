using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>One secure intercept delivered to VTL1, as host userspace sees it: the VTL0
/// instruction, and the page and access (memory), or the register or MSR and the value VTL0 tried
/// to write.</summary>
public sealed record VsmInterceptEvent(VsmInterceptKind Kind, int Vcpu, ulong Rip)
{
    public ulong Gpa { get; init; }
    public ulong Gva { get; init; }
    public AccessKind Access { get; init; }
    /// <summary>The access was the page walk's (reading an entry, or setting its accessed/dirty bits).</summary>
    public bool PageWalk { get; init; }
    public uint Register { get; init; }
    public uint Msr { get; init; }
    public ulong Value { get; init; }
}
