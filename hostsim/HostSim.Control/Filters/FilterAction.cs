namespace HekiGuest.HostSim.Control.Filters;

/// <summary>What host userspace answers when a filtered write traps.</summary>
public enum FilterAction
{
    /// <summary>Let the write through (the trap is only reported).</summary>
    Allow,
    /// <summary>Refuse it: #GP(0) to the guest, the register keeps its value.</summary>
    Deny,
    /// <summary>Ask the control client (QMP) and wait for "allow" or "deny"; "deny" without a client.</summary>
    Ask,
}

public static class FilterActions
{
    public static IReadOnlyList<string> Names { get; } = ["allow", "deny", "ask"];

    public static string Name(FilterAction a) => a switch { FilterAction.Allow => "allow", FilterAction.Deny => "deny", _ => "ask" };

    public static FilterAction? Parse(string text) => text switch
    {
        "allow" => FilterAction.Allow,
        "deny" => FilterAction.Deny,
        "ask" => FilterAction.Ask,
        _ => null,
    };
}
