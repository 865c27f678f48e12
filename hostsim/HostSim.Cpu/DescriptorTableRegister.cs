namespace HekiGuest.HostSim.Cpu;

/// <summary>GDTR / IDTR.</summary>
public struct DescriptorTableRegister
{
    public ulong Base;
    public ushort Limit;
}
