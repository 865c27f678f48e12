namespace HekiGuest.HostSim.Control.Policy;

/// <summary>What a triple fault (reboot.on-triple-fault; default stop, exit code 70) or a guest's
/// reset request (--on-reboot; default reset, "reboot") does, as QEMU's -action reboot=...: stop
/// the VM, like -no-reboot, or reset it and boot the same kernel again.</summary>
public enum RebootAction
{
    Stop,
    Reset,
}
