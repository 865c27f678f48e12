namespace HekiGuest.HostSim.Cpu;

/// <summary>The vendor a CPU model reports in CPUID leaf 0 (and whose behaviour it follows where
/// Intel and AMD differ, e.g. SYSENTER in long mode, MSR IA32_MISC_ENABLE).</summary>
public enum CpuVendor
{
    Intel,
    Amd,
}
