namespace HekiGuest.HostSim.Control.Policy;

/// <summary>The words of --on-reboot and the policy key reboot.on-reboot: "reboot" (QEMU's
/// default) or "stop" (QEMU's -no-reboot).</summary>
public static class RebootActions
{
    public static IReadOnlyList<string> OnRebootNames { get; } = ["reboot", "stop"];

    /// <summary>The action <paramref name="word"/> names, or null.</summary>
    public static RebootAction? Parse(string word) => word switch
    {
        "reboot" => RebootAction.Reset,
        "stop" => RebootAction.Stop,
        _ => null,
    };
}
