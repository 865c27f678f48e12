using System.Globalization;
using System.Text.Json;

namespace HekiGuest.HostSim.Control.Policy;

/// <summary>
/// Token-level helpers for the hand-written policy converters: every error is a
/// <see cref="JsonException"/> whose message names the key, and System.Text.Json adds the line.
/// </summary>
internal static class PolicyReader
{
    public static JsonException Error(string key, string message) => new($"{key}: {message}");

    public static void ExpectStartObject(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Error(key, $"expected an object, found {Describe(reader.TokenType)}");
    }

    /// <summary>Reads the next property name (or returns null at the object's end).</summary>
    public static string? NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject) return null;
        string name = reader.GetString()!;
        reader.Read();
        return name;
    }

    public static string String(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType != JsonTokenType.String) throw Error(key, $"expected a string, found {Describe(reader.TokenType)}");
        return reader.GetString()!;
    }

    public static string Choice(ref Utf8JsonReader reader, string key, IReadOnlyList<string> choices)
    {
        string s = String(ref reader, key);
        if (!choices.Contains(s)) throw Error(key, $"'{s}' is not one of {string.Join(", ", choices)}");
        return s;
    }

    public static bool Bool(ref Utf8JsonReader reader, string key) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Error(key, $"expected true or false, found {Describe(reader.TokenType)}"),
    };

    /// <summary>A non-negative integer (JSON number) or a "0x..." string.</summary>
    public static ulong UInt64(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out ulong n)) return n;
        if (reader.TokenType == JsonTokenType.String)
        {
            string s = reader.GetString()!;
            if (s.Length is > 2 and <= 18 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong h))
                return h;
            throw Error(key, $"'{s}' is not a hex number like \"0x100000\"");
        }
        throw Error(key, $"expected a non-negative integer or a \"0x...\" string, found {Describe(reader.TokenType)}");
    }

    /// <summary>"10s", "500ms", "2m" or a number of seconds; at most a day.</summary>
    public static TimeSpan Duration(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double seconds) && seconds > 0 && seconds <= 86400)
            return TimeSpan.FromSeconds(seconds);
        if (reader.TokenType == JsonTokenType.String && DurationText.Parse(reader.GetString()!) is { } d) return d;
        throw Error(key, "expected a duration like \"10s\", \"500ms\" or \"2m\" (at most a day)");
    }


    public static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };
}
