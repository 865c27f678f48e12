namespace HekiGuest.HostSim.Heki;

/// <summary>What host userspace does when the guest attempts something its policy forbids.</summary>
public enum DenialPolicy
{
    /// <summary>Deliver the fault to the guest (#GP for CR and MSR writes, #PF with bit 31 for
    /// memory, the error code for a hypercall) and let it continue.</summary>
    Inject,
    /// <summary>Stop the VM with a report (hostsim exit code 73).</summary>
    Stop,
}
