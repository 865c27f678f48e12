namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>How a kernel is entered.</summary>
public enum BootProtocol
{
    /// <summary>Choose: multiboot2 if the image has its header, else PVH, else multiboot1.</summary>
    Auto,
    Multiboot2,
    Pvh,
    Multiboot1,
}
