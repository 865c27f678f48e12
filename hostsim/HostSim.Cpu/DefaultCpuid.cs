namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// CPUID as implemented by this core: SSE/SSE2, CX8/CX16, CMOV, FXSR, POPCNT, LZCNT, BMI1 (TZCNT/ANDN),
/// XSAVE/XSETBV (x87+SSE state only), long mode, NX, SYSCALL, RDTSCP, FSGSBASE. SMEP/SMAP/UMIP/PGE
/// are advertised for the machine layer that implements paging.
/// </summary>
public sealed class DefaultCpuid : ICpuidProvider
{
    public const string Vendor = "HekiHostSim!";

    public CpuidResult Query(Cpu cpu, uint leaf, uint subleaf)
    {
        static uint Chars(string s, int i) => (uint)(s[i] | s[i + 1] << 8 | s[i + 2] << 16 | s[i + 3] << 24);
        switch (leaf)
        {
            case 0:
                return new CpuidResult(7, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4));
            case 1:
                {
                    // family 6 model 0x3A-ish; EDX: FPU TSC MSR PAE CX8 APIC SEP PGE CMOV PAT PSE36? CLFSH FXSR SSE SSE2
                    uint edx = 1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 9 | 1u << 11 | 1u << 13
                        | 1u << 15 | 1u << 16 | 1u << 19 | 1u << 24 | 1u << 25 | 1u << 26;
                    // ECX: CX16(13) POPCNT(23) XSAVE(26) OSXSAVE(27, mirrors CR4)
                    uint ecx = 1u << 13 | 1u << 23 | 1u << 26 | ((cpu.Cr4 & (1UL << 18)) != 0 ? 1u << 27 : 0);
                    return new CpuidResult(0x000306A9, 0x00010800, ecx, edx);
                }
            case 7:
                // EBX: FSGSBASE(0) BMI1(3) SMEP(7) SMAP(20); ECX: UMIP(2)
                return subleaf == 0 ? new CpuidResult(0, 1u << 0 | 1u << 3 | 1u << 7 | 1u << 20, 1u << 2, 0) : default;
            case 0xD:
                return subleaf switch
                {
                    0 => new CpuidResult(3, 512 + 64, 512 + 64, 0),
                    1 => new CpuidResult(0, 0, 0, 0),
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
