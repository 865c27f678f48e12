namespace HekiGuest.HostSim.Vsm;

/// <summary>KVM's own CPUID signature ("KVMKVMKVM\0\0\0", features leaf all zero), which the
/// VSM profile still offers, one range above Hyper-V's (as KVM does when it offers Hyper-V
/// enlightenments).</summary>
public static class KvmSignature
{
    public const uint Ebx = 0x4B4D564B;   // "KVMK"
    public const uint Ecx = 0x564B4D56;   // "VMKV"
    public const uint Edx = 0x0000004D;   // "M\0\0\0"
    public const uint FeaturesOffset = 1;
}
