namespace HekiGuest.HostSim.Control;

/// <summary>What host userspace does with one kind of HekiGuest denial.</summary>
public enum DenialAction
{
    /// <summary>The refusal reaches the guest (#GP, #PF, an error code) and it runs on.</summary>
    Inject,
    /// <summary>The VM stops with a report (exit code 73).</summary>
    Stop,
    /// <summary>The vCPU waits for the control client's verdict, "inject" or "stop" ("inject" without a client).</summary>
    Ask,
}

public static class DenialActionNames
{
    public static IReadOnlyList<string> Names { get; } = ["inject", "stop", "ask"];

    public static string Name(DenialAction a) => a switch { DenialAction.Inject => "inject", DenialAction.Stop => "stop", _ => "ask" };

    public static DenialAction? Parse(string text) => text switch
    {
        "inject" => DenialAction.Inject,
        "stop" => DenialAction.Stop,
        "ask" => DenialAction.Ask,
        _ => null,
    };
}
