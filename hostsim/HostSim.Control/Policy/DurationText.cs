using System.Globalization;

namespace HekiGuest.HostSim.Control.Policy;

/// <summary>
/// A duration as hostsim's options and policy file spell it: "10s", "500ms", "2m" or a plain
/// number of seconds; positive, at most a day.
/// </summary>
public static class DurationText
{
    /// <summary>The duration <paramref name="text"/> names, or null when it names none.</summary>
    public static TimeSpan? Parse(string text)
    {
        string t = text.Trim();
        double scale = 1;
        if (t.EndsWith("ms", StringComparison.Ordinal)) { scale = 0.001; t = t[..^2]; }
        else if (t.EndsWith('s')) t = t[..^1];
        else if (t.EndsWith('m')) { scale = 60; t = t[..^1]; }
        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v <= 0 || double.IsInfinity(v) || v * scale > 86400)
            return null;
        return TimeSpan.FromSeconds(v * scale);
    }
}
