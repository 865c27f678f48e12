using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The partition's VTL state (docs/vtl.md section 6): the VTLs enabled for the partition (VTL0
/// always; VTL1, <see cref="HvVtl.MaxVtl"/>, once EnablePartitionVtl succeeds), the MBEC flag each
/// was enabled with, and the VTL state of each virtual processor (hostsim runs one).
/// </summary>
public sealed class VsmPartition
{
    private const int Vtls = HvVtl.MaxVtl + 1;
    private readonly bool[] _enabled = new bool[Vtls];
    private readonly bool[] _mbec = new bool[Vtls];

    public VsmPartition(ulong memorySize)
    {
        Vps = [new VirtualProcessorVtls((uint)VsmHost.VpIndex, Vtls)];
        Vtl0Protections = new VtlProtectionMap(memorySize);
        Reset();
    }

    /// <summary>VTL1's VsmPartitionConfig (docs/vtl.md section 9): how it configures VTL0.</summary>
    public ulong Vtl1PartitionConfig { get; internal set; }

    /// <summary>What VTL1 allows VTL0 to do with each guest-physical page.</summary>
    public VtlProtectionMap Vtl0Protections { get; }

    public IReadOnlyList<VirtualProcessorVtls> Vps { get; }

    public bool IsEnabled(int vtl) => vtl >= 0 && vtl < Vtls && _enabled[vtl];

    /// <summary>The MBEC flag <paramref name="vtl"/> was enabled with (recorded; no effect yet).</summary>
    public bool MbecEnabled(int vtl) => _mbec[vtl];

    internal void Enable(int vtl, bool mbec)
    {
        _enabled[vtl] = true;
        _mbec[vtl] = mbec;
    }

    /// <summary>VM reset: VTL0 only, every VP back in VTL0.</summary>
    internal void Reset()
    {
        Array.Clear(_enabled);
        Array.Clear(_mbec);
        _enabled[0] = true;
        Vtl1PartitionConfig = 0;
        Vtl0Protections.Reset();
        foreach (var vp in Vps) vp.Reset();
    }
}
