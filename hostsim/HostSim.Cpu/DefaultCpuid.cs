namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// CPUID of the default model (<see cref="CpuModels.DefaultName"/>), which a new <see cref="Cpu"/>
/// has: only what the core implements (each bit has a test running its instructions,
/// tests/HostSim.Cpu.Tests/CpuidFeatureTests.cs). See <see cref="ModelCpuid"/> for the leaves.
/// </summary>
public sealed class DefaultCpuid : ICpuidProvider
{
    private readonly ModelCpuid _inner = new(CpuModels.Default);

    /// <summary>The highest basic leaf (0xD, XSAVE).</summary>
    public const uint MaxBasicLeaf = 0xD;

    public CpuidResult Query(Cpu cpu, uint leaf, uint subleaf) => _inner.Query(cpu, leaf, subleaf);
}
