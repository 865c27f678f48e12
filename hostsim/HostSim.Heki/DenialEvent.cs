using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// One blocked action, reported to host userspace exactly once (docs/abi.md section 5). Which
/// optional fields are set depends on <see cref="Kind"/>: <see cref="Cr"/> and <see cref="Value"/>
/// for a CR write; <see cref="Msr"/> and <see cref="Value"/> for an MSR write;
/// <see cref="Gpa"/>, <see cref="Gva"/> and <see cref="Access"/> for memory; <see cref="Error"/>
/// for a refused hypercall (with <see cref="Hypercall"/>, its number).
/// </summary>
public sealed record DenialEvent(DenialKind Kind, int Vcpu, ulong Rip)
{
    public int? Cr { get; init; }
    public uint? Msr { get; init; }
    public ulong? Value { get; init; }
    public ulong? Gpa { get; init; }
    public ulong? Gva { get; init; }
    public AccessKind? Access { get; init; }

    /// <summary>Memory denials only: set when the page was touched on the access's behalf (page walk, hypercall argument).</summary>
    public DenialCause? Cause { get; init; }
    public long? Error { get; init; }
    public ulong? Hypercall { get; init; }

    /// <summary>One line for reports: "memory write gva 0x... gpa 0x... at rip 0x...".</summary>
    public string Describe()
    {
        string what = Kind switch
        {
            DenialKind.CrWrite => $"write of 0x{Value:x} to CR{Cr}",
            DenialKind.MsrWrite => $"write of 0x{Value:x} to MSR 0x{Msr:x}",
            DenialKind.Memory when Gva is null => $"{Cause switch { DenialCause.Hypercall => "hypercall argument ", _ => "" }}{GuestAccess.Name(Access ?? AccessKind.Read)} at gpa 0x{Gpa:x}",
            DenialKind.Memory => $"{(Cause is { } c ? DenialCauses.Name(c) + " " : "")}{GuestAccess.Name(Access ?? AccessKind.Read)} at gva 0x{Gva:x} (gpa 0x{Gpa:x})",
            DenialKind.ProtectMemory => $"PROTECT_MEMORY refused with {Error}",
            _ => $"hypercall 0x{Hypercall:x} refused with {Error}",
        };
        return $"{DenialKinds.Name(Kind)} denied: {what} at rip 0x{Rip:x} (vcpu {Vcpu})";
    }
}
