namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The catalogue of CPUID feature bits: <see cref="Implemented"/> lists every bit the core
/// executes (each has a test running its instructions under every model,
/// tests/HostSim.Cpu.Tests/CpuidFeatureTests.cs); <see cref="NotImplemented"/> names common
/// features the core lacks, so that <c>--cpu MODEL,+avx</c> says so instead of "unknown".
/// OSXSAVE (leaf 1 ECX bit 27) is not a feature of a model: it mirrors CR4.OSXSAVE.
/// </summary>
public static class CpuFeatures
{
    public const string Pse = "pse", Tsc = "tsc", Msr = "msr", Pae = "pae", Cx8 = "cx8", Sep = "sep", Pge = "pge", Cmov = "cmov",
        Pat = "pat", Clflush = "clflush", Fxsr = "fxsr", Sse = "sse", Sse2 = "sse2", Cx16 = "cx16", Pcid = "pcid", Popcnt = "popcnt",
        Xsave = "xsave", Fsgsbase = "fsgsbase", Bmi1 = "bmi1", Smep = "smep", Invpcid = "invpcid", ZeroFcsFds = "zero-fcs-fds",
        Smap = "smap", Umip = "umip", Xsaveopt = "xsaveopt", Xsavec = "xsavec", LahfLm = "lahf-lm", Abm = "abm",
        Syscall = "syscall", Nx = "nx", Rdtscp = "rdtscp", Lm = "lm", De = "de";

    private const uint Ext = 0x8000_0001;

    /// <summary>Every feature bit the core implements, in CPUID order.</summary>
    public static readonly IReadOnlyList<CpuFeature> Implemented =
    [
        new(De, 1, 0, CpuidRegister.Edx, 2, "debugging extensions: CR4.DE (DR4/DR5 #UD, I/O breakpoints)"),
        new(Pse, 1, 0, CpuidRegister.Edx, 3, "4 MiB pages (CR4.PSE)"),
        new(Tsc, 1, 0, CpuidRegister.Edx, 4, "RDTSC, CR4.TSD"),
        new(Msr, 1, 0, CpuidRegister.Edx, 5, "RDMSR/WRMSR"),
        new(Pae, 1, 0, CpuidRegister.Edx, 6, "physical address extension (CR4.PAE)"),
        new(Cx8, 1, 0, CpuidRegister.Edx, 8, "CMPXCHG8B"),
        new(Sep, 1, 0, CpuidRegister.Edx, 11, "SYSENTER/SYSEXIT and their MSRs 0x174-0x176"),
        new(Pge, 1, 0, CpuidRegister.Edx, 13, "global pages (CR4.PGE)"),
        new(Cmov, 1, 0, CpuidRegister.Edx, 15, "CMOVcc"),
        new(Pat, 1, 0, CpuidRegister.Edx, 16, "page attribute table MSR 0x277"),
        new(Clflush, 1, 0, CpuidRegister.Edx, 19, "CLFLUSH"),
        new(Fxsr, 1, 0, CpuidRegister.Edx, 24, "FXSAVE/FXRSTOR, CR4.OSFXSR"),
        new(Sse, 1, 0, CpuidRegister.Edx, 25, "SSE", Fxsr),
        new(Sse2, 1, 0, CpuidRegister.Edx, 26, "SSE2", Sse),
        new(Cx16, 1, 0, CpuidRegister.Ecx, 13, "CMPXCHG16B"),
        new(Pcid, 1, 0, CpuidRegister.Ecx, 17, "process-context identifiers (CR4.PCIDE, CR3 bit 63)", Lm),
        new(Popcnt, 1, 0, CpuidRegister.Ecx, 23, "POPCNT"),
        new(Xsave, 1, 0, CpuidRegister.Ecx, 26, "XSAVE/XRSTOR/XSETBV/XGETBV, CR4.OSXSAVE (x87 and SSE state)", Fxsr),
        new(Fsgsbase, 7, 0, CpuidRegister.Ebx, 0, "RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (CR4.FSGSBASE)", Lm),
        new(Bmi1, 7, 0, CpuidRegister.Ebx, 3, "ANDN, BEXTR, BLSI, BLSMSK, BLSR, TZCNT"),
        new(Smep, 7, 0, CpuidRegister.Ebx, 7, "supervisor-mode execution prevention (CR4.SMEP)"),
        new(Invpcid, 7, 0, CpuidRegister.Ebx, 10, "INVPCID (all four types)", Pcid),
        new(ZeroFcsFds, 7, 0, CpuidRegister.Ebx, 13, "FPU CS and DS deprecated (stored as zero)"),
        new(Smap, 7, 0, CpuidRegister.Ebx, 20, "supervisor-mode access prevention (CR4.SMAP, STAC/CLAC)"),
        new(Umip, 7, 0, CpuidRegister.Ecx, 2, "user-mode instruction prevention (CR4.UMIP)"),
        new(Xsaveopt, 0xD, 1, CpuidRegister.Eax, 0, "XSAVEOPT", Xsave),
        new(Xsavec, 0xD, 1, CpuidRegister.Eax, 1, "XSAVEC (compacted format)", Xsave),
        new(LahfLm, Ext, 0, CpuidRegister.Ecx, 0, "LAHF/SAHF in 64-bit mode"),
        new(Abm, Ext, 0, CpuidRegister.Ecx, 5, "LZCNT"),
        new(Syscall, Ext, 0, CpuidRegister.Edx, 11, "SYSCALL/SYSRET (EFER.SCE)"),
        new(Nx, Ext, 0, CpuidRegister.Edx, 20, "no-execute pages (EFER.NXE)"),
        new(Rdtscp, Ext, 0, CpuidRegister.Edx, 27, "RDTSCP, IA32_TSC_AUX"),
        new(Lm, Ext, 0, CpuidRegister.Edx, 29, "long mode (EFER.LME)", Pae),
    ];

    /// <summary>Features real CPUs (and QEMU) have that this core does not implement: never advertised.</summary>
    public static readonly IReadOnlySet<string> NotImplemented = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "fpu", "vme", "mce", "apic", "mtrr", "mca", "pse36", "mmx", "ds", "acpi", "ss", "ht", "tm", "pbe",
        "sse3", "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid", "fma", "xtpr",
        "pdcm", "dca", "sse4.1", "sse4_1", "sse4.2", "sse4_2", "x2apic", "movbe", "tsc-deadline", "aes", "avx", "f16c", "rdrand",
        "hypervisor", "tsc-adjust", "sgx", "hle", "avx2", "bmi2", "erms", "rtm", "mpx", "avx512f", "avx512dq", "rdseed", "adx",
        "clflushopt", "clwb", "avx512cd", "sha-ni", "avx512bw", "avx512vl", "pku", "ospke", "pks", "la57", "rdpid", "waitpkg",
        "fsrm", "xsaves", "xgetbv1", "pdpe1gb", "svm", "sse4a", "3dnowprefetch", "misalignsse", "xop", "fma4", "tbm", "rdpru",
        "wbnoinvd", "mmxext", "fxsr-opt", "3dnow", "3dnowext", "cr8legacy", "arat", "spec-ctrl", "ssbd", "md-clear",
        "arch-capabilities", "avx-vnni", "gfni", "vaes", "vpclmulqdq", "avx512vbmi", "avx512-vpopcntdq", "movdiri", "movdir64b",
        "serialize", "tsx-ctrl", "amx-tile", "lbrv", "npt", "nrip-save", "cmp-legacy", "extapic", "topoext", "perfctr-core",
    };

    private static readonly Dictionary<string, CpuFeature> ByName =
        Implemented.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The implemented feature called <paramref name="name"/> (QEMU's spelling; '_' and '-' are the same).</summary>
    public static CpuFeature? Find(string name) =>
        ByName.TryGetValue(name.Replace('_', '-'), out var f) ? f : null;
}
