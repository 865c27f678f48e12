namespace HekiGuest.HostSim.Cpu;

/// <summary>The output register of CPUID a feature bit lives in.</summary>
public enum CpuidRegister
{
    Eax,
    Ebx,
    Ecx,
    Edx,
}
