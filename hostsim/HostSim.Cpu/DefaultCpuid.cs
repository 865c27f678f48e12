namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// CPUID as implemented by this core, and nothing more: every bit set here names something the
/// core executes (tests/HostSim.Cpu.Tests/CpuidFeatureTests.cs runs an instruction per bit).
/// Leaf 1: TSC, MSR, PAE, PSE, CX8, PGE, CMOV, PAT, CLFSH, FXSR, SSE, SSE2; CX16, POPCNT, XSAVE,
/// OSXSAVE (mirrors CR4). Leaf 7: FSGSBASE, BMI1, SMEP, SMAP, FPU CS/DS deprecated; UMIP. Leaf
/// 0xD: XCR0 x87+SSE, XSAVEOPT, XSAVEC. Extended: LAHF/SAHF, LZCNT, SYSCALL, NX, RDTSCP, LM.
/// Deliberately clear: FPU (the core has no x87 arithmetic, only the x87 control and
/// state-management instructions), APIC (no local APIC is modelled), SEP (no SYSENTER/SYSEXIT),
/// MMX, SSE3 and later, AVX. SMEP/SMAP/UMIP/PGE/PSE/PAE/NX take effect in the machine's paging.
/// </summary>
public sealed class DefaultCpuid : ICpuidProvider
{
    public const string Vendor = "HekiHostSim!";

    /// <summary>The highest basic leaf (0xD, XSAVE).</summary>
    public const uint MaxBasicLeaf = 0xD;

    public CpuidResult Query(Cpu cpu, uint leaf, uint subleaf)
    {
        static uint Chars(string s, int i) => (uint)(s[i] | s[i + 1] << 8 | s[i + 2] << 16 | s[i + 3] << 24);
        switch (leaf)
        {
            case 0:
                return new CpuidResult(MaxBasicLeaf, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4));
            case 1:
                {
                    // EDX: PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) PGE(13) CMOV(15) PAT(16) CLFSH(19) FXSR(24) SSE(25) SSE2(26)
                    uint edx = 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 13
                        | 1u << 15 | 1u << 16 | 1u << 19 | 1u << 24 | 1u << 25 | 1u << 26;
                    // ECX: CX16(13) POPCNT(23) XSAVE(26) OSXSAVE(27, mirrors CR4)
                    uint ecx = 1u << 13 | 1u << 23 | 1u << 26 | ((cpu.Cr4 & (1UL << 18)) != 0 ? 1u << 27 : 0);
                    // EBX: CLFLUSH line 8 x 8 bytes, one logical processor
                    return new CpuidResult(0x000306A9, 0x00010800, ecx, edx);
                }
            case 7:
                // EBX: FSGSBASE(0) BMI1(3) SMEP(7) FPU CS/DS deprecated(13) SMAP(20); ECX: UMIP(2)
                return subleaf == 0 ? new CpuidResult(0, 1u << 0 | 1u << 3 | 1u << 7 | 1u << 13 | 1u << 20, 1u << 2, 0) : default;
            case 0xD:
                return subleaf switch
                {
                    // supported XCR0 bits; area size for the enabled XCR0 and for all supported
                    // components (both only the legacy region + header: x87 and SSE live there)
                    0 => new CpuidResult((uint)Cpu.XsaveSupportedMask, Cpu.XsaveAreaSize, Cpu.XsaveAreaSize, 0),
                    // XSAVEOPT(0) XSAVEC(1); compacted size for XCR0 (no IA32_XSS components)
                    1 => new CpuidResult(1u << 0 | 1u << 1, Cpu.XsaveAreaSize, 0, 0),
                    _ => default,
                };
            case 0x8000_0000:
                return new CpuidResult(0x8000_0008, 0, 0, 0);
            case 0x8000_0001:
                // ECX: LAHF(0) ABM/LZCNT(5); EDX: SYSCALL(11) NX(20) RDTSCP(27) LM(29)
                return new CpuidResult(0, 0, 1u << 0 | 1u << 5, 1u << 11 | 1u << 20 | 1u << 27 | 1u << 29);
            case 0x8000_0008:
                return new CpuidResult(0x3027, 0, 0, 0); // 39-bit physical, 48-bit linear
            default:
                return default;
        }
    }
}
