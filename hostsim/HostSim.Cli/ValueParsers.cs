using HekiGuest.HostSim.Control.Policy;
using System.Globalization;

namespace HekiGuest.HostSim.Cli;

/// <summary>Parses sizes ("128M", "1G", "65536K", "4096") and durations ("10s", "500ms", "2m").</summary>
public static class ValueParsers
{
    public static ulong ParseSize(string text)
    {
        string t = text.Trim();
        ulong unit = 1;
        if (t.Length > 0)
        {
            char last = char.ToUpperInvariant(t[^1]);
            unit = last switch { 'K' => 1UL << 10, 'M' => 1UL << 20, 'G' => 1UL << 30, _ => 1 };
            if (unit != 1) t = t[..^1];
            else if (t.EndsWith("iB", StringComparison.Ordinal) || t.EndsWith('B')) throw new UsageError($"unparsable size '{text}' (use e.g. 128M, 1G, 65536K)");
        }
        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0)
            throw new UsageError($"unparsable size '{text}' (use e.g. 128M, 1G, 65536K)");
        ulong bytes = n * unit;
        if (bytes / unit != n) throw new UsageError($"size '{text}' is too large");
        return bytes;
    }

    public static TimeSpan ParseDuration(string text) =>
        DurationText.Parse(text) ?? throw new UsageError($"unparsable duration '{text}' (use e.g. 10s, 500ms, 2m)");
}
