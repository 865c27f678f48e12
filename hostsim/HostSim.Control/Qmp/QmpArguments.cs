using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>
/// A command's "arguments" object, checked the way QEMU's dispatcher checks them: a member the
/// command does not take, a missing required member or a value of the wrong type is a
/// GenericError naming the parameter. 64-bit values are JSON integers or "0x..." strings.
/// </summary>
public sealed class QmpArguments
{
    private readonly JsonObject _args;

    public QmpArguments(JsonObject? args, IReadOnlyCollection<string> parameters)
    {
        _args = args ?? [];
        foreach (var (name, _) in _args)
        {
            if (!parameters.Contains(name)) throw QmpError.Generic($"Parameter '{name}' is unexpected");
        }
    }

    public bool Has(string name) => _args.ContainsKey(name);

    public JsonNode? Raw(string name) => _args[name];

    public string RequiredString(string name) => OptionalString(name) ?? throw Missing(name);

    public string? OptionalString(string name)
    {
        if (!_args.TryGetPropertyValue(name, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw WrongType(name, "string");
    }

    public bool? OptionalBool(string name)
    {
        if (!_args.TryGetPropertyValue(name, out var node) || node is null) return null;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "boolean"),
        };
    }

    public ulong RequiredUInt64(string name) => OptionalUInt64(name) ?? throw Missing(name);

    public ulong? OptionalUInt64(string name)
    {
        if (!_args.TryGetPropertyValue(name, out var node) || node is null) return null;
        return ParseUInt64(node) ?? throw WrongType(name, "integer");
    }

    public string RequiredChoice(string name, IReadOnlyCollection<string> choices) => OptionalChoice(name, choices) ?? throw Missing(name);

    public string? OptionalChoice(string name, IReadOnlyCollection<string> choices)
    {
        if (OptionalString(name) is not { } text) return null;
        if (!choices.Contains(text)) throw QmpError.Generic($"Parameter '{name}' does not accept value '{text}'");
        return text;
    }

    /// <summary>A non-negative JSON integer up to 2^64-1, or a "0x..." hex string; null otherwise.</summary>
    public static ulong? ParseUInt64(JsonNode node)
    {
        if (node is not JsonValue v) return null;
        switch (v.GetValueKind())
        {
            case JsonValueKind.Number:
                return v.TryGetValue<ulong>(out ulong n) ? n : null;
            case JsonValueKind.String:
                string s = v.GetValue<string>();
                return s.Length is > 2 and <= 18 && (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                    && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong h) ? h : null;
            default:
                return null;
        }
    }

    public static QmpError Missing(string name) => QmpError.Generic($"Parameter '{name}' is missing");

    public static QmpError WrongType(string name, string expected) => QmpError.Generic($"Invalid parameter type for '{name}', expected: {expected}");
}
