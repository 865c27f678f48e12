namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Why the machine stopped, with the host exit code each maps to.</summary>
public enum MachineStopKind
{
    /// <summary>The guest wrote to the debug-exit port; exit code (value &lt;&lt; 1) | 1.</summary>
    GuestExit,
    /// <summary>A fault while delivering a double fault. Exit code 70.</summary>
    TripleFault,
    /// <summary>The guest ran a valid instruction the simulator does not implement and
    /// <see cref="VirtualMachine.StopOnUnimplemented"/> is set (otherwise the guest gets #UD). Exit code 71.</summary>
    Unimplemented,
    /// <summary>HLT with nothing that could ever wake the CPU. Exit code 72.</summary>
    HaltedForever,
    /// <summary>The wall-clock deadline passed. Exit code 124.</summary>
    Timeout,
    /// <summary>The instruction budget ran out. Exit code 124.</summary>
    InstructionLimit,
    /// <summary>Host userspace stopped the VM because the guest attempted something its own
    /// policy forbids (a HekiGuest denial with --on-denial stop). Exit code 73.</summary>
    Denied,
    /// <summary>The guest asked for a platform reset (port 0xCF9, the 8042's reset pulse) and the
    /// run returns so host userspace can decide: reset and boot again (--on-reboot reboot) or
    /// stop (exit code 74, like QEMU's -no-reboot).</summary>
    GuestReset,
    /// <summary>Host userspace ended the VM on request (QMP <c>quit</c>). Exit code 0.</summary>
    HostQuit,
}
