namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The CPU models <c>hostsim run --cpu</c> offers. Each is a real processor's identity (vendor,
/// family/model/stepping as CPUID reports them on that silicon) with that processor's features
/// restricted to what the core implements (<see cref="CpuFeatures.Implemented"/>): a model never
/// advertises an instruction the core lacks, so every model has fewer features than its chip
/// (no x87 arithmetic, MMX, SSE3 or later, AVX, ...).
/// </summary>
public static class CpuModels
{
    private static readonly string[] X86_64 =
    [
        CpuFeatures.De, CpuFeatures.Pse, CpuFeatures.Tsc, CpuFeatures.Msr, CpuFeatures.Pae, CpuFeatures.Cx8, CpuFeatures.Sep, CpuFeatures.Pge,
        CpuFeatures.Cmov, CpuFeatures.Pat, CpuFeatures.Clflush, CpuFeatures.Fxsr, CpuFeatures.Sse, CpuFeatures.Sse2,
        CpuFeatures.Cx16, CpuFeatures.LahfLm, CpuFeatures.Syscall, CpuFeatures.Nx, CpuFeatures.Lm,
    ];

    private static string[] Plus(string[] baseSet, params string[] more) => [.. baseSet, .. more];

    private static readonly string[] NehalemSet = Plus(X86_64, CpuFeatures.Popcnt, CpuFeatures.Rdtscp);
    private static readonly string[] WestmereSet = Plus(NehalemSet, CpuFeatures.Pcid);
    private static readonly string[] SandyBridgeSet = Plus(WestmereSet, CpuFeatures.Xsave, CpuFeatures.Xsaveopt);
    private static readonly string[] IvyBridgeSet = Plus(SandyBridgeSet, CpuFeatures.Fsgsbase, CpuFeatures.Smep);
    private static readonly string[] HaswellSet = Plus(IvyBridgeSet, CpuFeatures.Bmi1, CpuFeatures.Abm, CpuFeatures.Invpcid, CpuFeatures.ZeroFcsFds);
    private static readonly string[] BroadwellSet = Plus(HaswellSet, CpuFeatures.Smap);
    private static readonly string[] SkylakeSet = Plus(BroadwellSet, CpuFeatures.Xsavec);
    private static readonly string[] IcelakeSet = Plus(SkylakeSet, CpuFeatures.Umip);
    private static readonly string[] EpycSet = Plus(X86_64, CpuFeatures.Popcnt, CpuFeatures.Rdtscp, CpuFeatures.Abm, CpuFeatures.Xsave,
        CpuFeatures.Xsaveopt, CpuFeatures.Xsavec, CpuFeatures.Fsgsbase, CpuFeatures.Bmi1, CpuFeatures.Smep, CpuFeatures.Smap);
    private static readonly string[] EpycRomeSet = Plus(EpycSet, CpuFeatures.Umip);
    private static readonly string[] EpycMilanSet = Plus(EpycRomeSet, CpuFeatures.Pcid, CpuFeatures.Invpcid);

    /// <summary>The model used without <c>--cpu</c>: an Intel server part with every feature the core has,
    /// which mainstream 64-bit guests (and HekiGuest's protections: SMEP, SMAP, UMIP, NX) accept.</summary>
    public const string DefaultName = "Icelake-Server";

    public static readonly IReadOnlyList<CpuModel> All =
    [
        new("qemu64", "QEMU's default 64-bit model", CpuVendor.Amd, 15, 107, 1, "QEMU Virtual CPU version 2.5+",
            X86_64),
        new("Nehalem", "Intel Core i7 9xx (Nehalem, 2008)", CpuVendor.Intel, 6, 26, 3, "Intel Core i7 9xx (Nehalem Class Core i7)",
            NehalemSet),
        new("Westmere", "Intel Westmere E56xx/L56xx/X56xx (2010)", CpuVendor.Intel, 6, 44, 1, "Westmere E56xx/L56xx/X56xx (Nehalem-C)",
            WestmereSet),
        new("SandyBridge", "Intel Xeon E312xx (Sandy Bridge, 2011)", CpuVendor.Intel, 6, 42, 1, "Intel Xeon E312xx (Sandy Bridge)",
            SandyBridgeSet),
        new("IvyBridge", "Intel Xeon E3-12xx v2 (Ivy Bridge, 2012)", CpuVendor.Intel, 6, 58, 9, "Intel Xeon E3-12xx v2 (Ivy Bridge)",
            IvyBridgeSet),
        new("Haswell", "Intel Core Processor (Haswell, 2013)", CpuVendor.Intel, 6, 60, 3, "Intel Core Processor (Haswell)",
            HaswellSet),
        new("Broadwell", "Intel Core Processor (Broadwell, 2014)", CpuVendor.Intel, 6, 61, 4, "Intel Core Processor (Broadwell)",
            BroadwellSet),
        new("Skylake-Client", "Intel Core Processor (Skylake, 2015)", CpuVendor.Intel, 6, 94, 3, "Intel Core Processor (Skylake)",
            SkylakeSet),
        new("Icelake-Server", "Intel Xeon Processor (Icelake, 2021)", CpuVendor.Intel, 6, 106, 6, "Intel Xeon Processor (Icelake)",
            IcelakeSet),
        new("EPYC", "AMD EPYC Processor (Zen, Naples, 2017)", CpuVendor.Amd, 23, 1, 2, "AMD EPYC Processor",
            EpycSet),
        new("EPYC-Rome", "AMD EPYC-Rome Processor (Zen 2, 2019)", CpuVendor.Amd, 23, 49, 0, "AMD EPYC-Rome Processor",
            EpycRomeSet),
        new("EPYC-Milan", "AMD EPYC-Milan Processor (Zen 3, 2021)", CpuVendor.Amd, 25, 1, 1, "AMD EPYC-Milan Processor",
            EpycMilanSet),
        new("max", "every feature the core implements (Icelake-Server's identity)", CpuVendor.Intel, 6, 106, 6,
            "Intel Xeon Processor (Icelake)", CpuFeatures.Implemented.Select(f => f.Name)),
    ];

    public static CpuModel Default => Find(DefaultName)!;

    /// <summary>The model called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static CpuModel? Find(string name) =>
        All.FirstOrDefault(m => m.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
