using HekiGuest.Abi;

namespace HekiGuest.HostSim.Heki;

/// <summary>Which numbering of the host interface hostsim presents (docs/abi.md section 7).</summary>
public enum HekiHostProfile
{
    /// <summary>No hypervisor interface at all: CPUID.1:ECX.HV clear, VMCALL is #UD (like bare QEMU TCG).</summary>
    None,
    /// <summary>The HekiGuest ABI v1: its own CPUID range, MSRs and hypercalls (the default).</summary>
    Heki,
    /// <summary>The June 2020 paravirtual CR pinning series: KVM feature bit 15 and MSRs 0x4b564d08..0d.</summary>
    CrPin2020,
    /// <summary>Heki RFC v3: KVM signature and hypercall 13 LOCK_CR_UPDATE.</summary>
    HekiV3,
}

/// <summary>Profile names as the command line spells them.</summary>
public static class HekiHostProfiles
{
    public const string NoneName = "none";

    public static IReadOnlyList<string> Names { get; } = [HekiProfileNames.Default, HekiProfileNames.CrPin2020, HekiProfileNames.HekiV3, NoneName];

    public static bool TryParse(string text, out HekiHostProfile profile)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case HekiProfileNames.Default: profile = HekiHostProfile.Heki; return true;
            case HekiProfileNames.CrPin2020: profile = HekiHostProfile.CrPin2020; return true;
            case HekiProfileNames.HekiV3: profile = HekiHostProfile.HekiV3; return true;
            case NoneName: profile = HekiHostProfile.None; return true;
            default: profile = default; return false;
        }
    }

    public static string Name(HekiHostProfile profile) => profile switch
    {
        HekiHostProfile.Heki => HekiProfileNames.Default,
        HekiHostProfile.CrPin2020 => HekiProfileNames.CrPin2020,
        HekiHostProfile.HekiV3 => HekiProfileNames.HekiV3,
        _ => NoneName,
    };
}
