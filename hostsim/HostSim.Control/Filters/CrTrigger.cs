namespace HekiGuest.HostSim.Control.Filters;

/// <summary>Which changes of the named CR bits trap.</summary>
public enum CrTrigger
{
    /// <summary>A write that clears a named bit that is set now (pinning a bit high, e.g. CR4.SMEP).</summary>
    Clear,
    /// <summary>A write that sets a named bit that is clear now (pinning a bit low).</summary>
    Set,
    /// <summary>Either.</summary>
    Change,
}

public static class CrTriggers
{
    public static IReadOnlyList<string> Names { get; } = ["clear", "set", "change"];

    public static string Name(CrTrigger t) => t switch { CrTrigger.Clear => "clear", CrTrigger.Set => "set", _ => "change" };

    public static CrTrigger? Parse(string text) => text switch
    {
        "clear" => CrTrigger.Clear,
        "set" => CrTrigger.Set,
        "change" => CrTrigger.Change,
        _ => null,
    };

    /// <summary>The named bits this write trips.</summary>
    public static ulong Tripped(CrTrigger t, ulong bits, ulong oldValue, ulong newValue) => bits & t switch
    {
        CrTrigger.Clear => oldValue & ~newValue,
        CrTrigger.Set => ~oldValue & newValue,
        _ => oldValue ^ newValue,
    };
}
