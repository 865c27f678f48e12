namespace HekiGuest.HostSim.Vsm;

/// <summary>A set-up step the guest completed, reported to host userspace (the --events file).</summary>
public enum VsmSetupStep
{
    GuestOsIdSet,
    HypercallPageEnabled,
    VpAssistPageEnabled,
}
