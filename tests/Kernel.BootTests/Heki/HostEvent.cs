using System.Globalization;
using System.Text.Json;

namespace HekiGuest.Tests.Boot;

/// <summary>One line of hostsim's --events log: "event" (configure or denial) and its scalar fields as text.</summary>
public sealed record HostEvent(int LineNumber, string Event, IReadOnlyDictionary<string, string> Fields, JsonElement Raw)
{
    public string? Get(string field) => Fields.TryGetValue(field, out var v) ? v : null;

    /// <summary>Parses every line of <paramref name="path"/>; a malformed line is a <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<HostEvent> ReadLog(string path)
    {
        var events = new List<HostEvent>();
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            JsonElement root;
            try
            {
                root = JsonDocument.Parse(lines[i]).RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new FormatException($"{path}:{i + 1}: not JSON ({e.Message})", e);
            }

            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.String: fields[p.Name] = p.Value.GetString()!; break;
                    case JsonValueKind.Number: fields[p.Name] = p.Value.GetRawText(); break;
                }
            }

            if (!fields.TryGetValue("event", out var kind))
            {
                throw new FormatException($"{path}:{i + 1}: no \"event\" field");
            }

            events.Add(new HostEvent(i + 1, kind, fields, root));
        }

        return events;
    }

    /// <summary>Whether two field values are equal: numerically when both are numbers (0x.. or decimal), else as text.</summary>
    public static bool SameValue(string a, string b)
    {
        if (TryNumber(a, out var x) && TryNumber(b, out var y))
        {
            return x == y;
        }

        return string.Equals(a, b, StringComparison.Ordinal);
    }

    private static bool TryNumber(string text, out long value)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var ok = ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u);
            value = (long)u;
            return ok;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public override string ToString() => $"events line {LineNumber}: {Raw.GetRawText()}";
}
