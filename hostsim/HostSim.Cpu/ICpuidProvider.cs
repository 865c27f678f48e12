namespace HekiGuest.HostSim.Cpu;

/// <summary>Answers CPUID. <see cref="DefaultCpuid"/> describes what this core implements.</summary>
public interface ICpuidProvider
{
    CpuidResult Query(Cpu cpu, uint leaf, uint subleaf);
}

public readonly record struct CpuidResult(uint Eax, uint Ebx, uint Ecx, uint Edx);
