namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// An architectural exception raised by guest execution: vector, optional error code and, for #PF,
/// the faulting linear address (CR2). The core reports it as pending; the machine delivers it.
/// </summary>
public readonly record struct GuestFault(byte Vector, bool HasErrorCode, uint ErrorCode, ulong Cr2)
{
    public const byte DivideError = 0;
    public const byte Debug = 1;
    public const byte Breakpoint = 3;
    public const byte Overflow = 4;
    public const byte InvalidOpcode = 6;
    public const byte DeviceNotAvailable = 7;
    public const byte GeneralProtection = 13;
    public const byte PageFault = 14;
    public const byte StackFault = 12;
    public const byte X87FloatingPoint = 16;
    public const byte AlignmentCheck = 17;
    public const byte SimdFloatingPoint = 19;

    public static GuestFault DE() => new(DivideError, false, 0, 0);
    public static GuestFault UD() => new(InvalidOpcode, false, 0, 0);
    public static GuestFault GP(uint errorCode = 0) => new(GeneralProtection, true, errorCode, 0);
    public static GuestFault SS(uint errorCode = 0) => new(StackFault, true, errorCode, 0);

    /// <summary>A page fault with the architectural error code bits (P, W/R, U/S, RSVD, I/D, PK).</summary>
    public static GuestFault PF(ulong linear, uint errorCode) => new(PageFault, true, errorCode, linear);

    public override string ToString() =>
        Vector == PageFault ? $"#PF(err=0x{ErrorCode:x}, cr2=0x{Cr2:x})"
        : HasErrorCode ? $"vector {Vector} (err=0x{ErrorCode:x})" : $"vector {Vector}";
}
