namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// One CPUID feature bit the core implements, named as QEMU's <c>-cpu</c> names it
/// (<c>+sep</c>, <c>-smap</c>, ...). <paramref name="Requires"/> names the features it depends on:
/// a model never has a feature without its dependencies.
/// </summary>
public sealed record CpuFeature(string Name, uint Leaf, uint Subleaf, CpuidRegister Register, int Bit, string Description, params string[] Requires)
{
    public uint Mask => 1u << Bit;
}
