namespace HekiGuest.HostSim.Machine.Paging;

/// <summary>Bits of the #PF error code (Intel SDM vol. 3, 4.7).</summary>
public static class PageFaultError
{
    public const uint Present = 1 << 0;
    public const uint Write = 1 << 1;
    public const uint User = 1 << 2;
    public const uint ReservedBit = 1 << 3;
    public const uint InstructionFetch = 1 << 4;
}
