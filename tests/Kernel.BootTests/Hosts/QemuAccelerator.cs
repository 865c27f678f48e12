namespace HekiGuest.Tests.Boot;

/// <summary>QEMU's accelerator. TCG is the default: this machine's KVM cannot run the kernel's SSE code.</summary>
public enum QemuAccelerator
{
    /// <summary>Software translation; works everywhere.</summary>
    Tcg,

    /// <summary>Hardware virtualization; only when HEKI_QEMU_ACCEL=kvm.</summary>
    Kvm,
}
