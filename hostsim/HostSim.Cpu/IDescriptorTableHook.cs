namespace HekiGuest.HostSim.Cpu;

/// <summary>The register an LGDT, LIDT, LLDT or LTR loads.</summary>
public enum DescriptorTableLoad : byte
{
    Gdtr = 0,
    Idtr = 1,
    Ldtr = 2,
    Tr = 3,
}

/// <summary>
/// Asked before LGDT / LIDT (after the CPL check and the read of the operand: <c>base</c> and
/// <c>limit</c>) or LLDT / LTR (after the CPL check, before the descriptor is read:
/// <c>selector</c>) changes its register. Return false to refuse: the guest gets #GP(0) and
/// nothing changes.
/// </summary>
public interface IDescriptorTableHook
{
    bool AllowLoad(Cpu cpu, DescriptorTableLoad register, ulong @base, ushort limit, ushort selector);
}
