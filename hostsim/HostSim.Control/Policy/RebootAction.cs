namespace HekiGuest.HostSim.Control.Policy;

/// <summary>What a triple fault does (QEMU's -action reboot=...): stop the VM (exit code 70,
/// hostsim's default, like -no-reboot) or reset it and boot the same kernel again.</summary>
public enum RebootAction
{
    Stop,
    Reset,
}
