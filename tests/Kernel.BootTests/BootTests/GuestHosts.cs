namespace HekiGuest.Tests.Boot;

/// <summary>
/// The hosts every boot test runs on: QEMU (PVH and ISO) and the bundled simulator hostsim
/// (the kernel ELF through multiboot2; the transcript is its stdout). The table is static so test discovery never reads the
/// environment or looks for artifacts: a bad setting fails the tests, not the discovery.
/// </summary>
public static class GuestHosts
{
    /// <summary>Host name for QEMU.</summary>
    public const string Qemu = "qemu";

    /// <summary>Host name for the bundled simulator.</summary>
    public const string HostSim = "hostsim";

    private static readonly (string Name, BootMedium[] Media, Func<IGuestHost> Create)[] Table =
    [
        (Qemu, [BootMedium.Pvh, BootMedium.Iso], () => QemuHost.FromEnvironment()),
        (HostSim, [BootMedium.Pvh], () => HostSimHost.FromEnvironment()),
    ];

    /// <summary>Every host (all boot PVH), as theory data.</summary>
    public static TheoryData<string> All => Booting(BootMedium.Pvh);

    /// <summary>The hosts that boot the GRUB ISO, as theory data.</summary>
    public static TheoryData<string> IsoCapable => Booting(BootMedium.Iso);

    /// <summary>The hosts that can boot <paramref name="medium"/>, as theory data.</summary>
    public static TheoryData<string> Booting(BootMedium medium)
    {
        var data = new TheoryData<string>();
        foreach (var (name, media, _) in Table)
        {
            if (media.Contains(medium))
            {
                data.Add(name);
            }
        }

        return data;
    }

    /// <summary>The host named <paramref name="name"/>, configured from the environment.</summary>
    public static IGuestHost Create(string name)
    {
        foreach (var (candidate, _, create) in Table)
        {
            if (candidate == name)
            {
                return create();
            }
        }

        throw new ArgumentOutOfRangeException(nameof(name), name, "unknown guest host");
    }
}
