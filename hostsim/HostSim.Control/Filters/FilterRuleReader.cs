using System.Text.Json;
using System.Text.Json.Serialization;
using HekiGuest.HostSim.Control.Policy;

namespace HekiGuest.HostSim.Control.Filters;

/// <summary>
/// Reads filter rules, the one JSON shape the policy file's "filters" and QMP's
/// hostsim-set-filter share: {"cr": 0|4, "bits": MASK, "trap": "clear"|"set"|"change",
/// "action": "allow"|"deny"|"ask"} or {"msr": NUMBER, "action": ...}.
/// </summary>
public sealed class FilterRuleReader : JsonConverter<FilterRule>
{
    public static JsonSerializerOptions Options { get; } = new() { Converters = { new FilterRuleReader() } };

    /// <summary>Parses a JSON array of rules; a bad one throws <see cref="JsonException"/> naming the key.</summary>
    public static IReadOnlyList<FilterRule> ParseArray(string json) =>
        JsonSerializer.Deserialize<FilterRule[]>(json, Options) ?? throw new JsonException("filters: expected an array of rules, found null");

    public override FilterRule Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadRule(ref reader, "filters[]");

    public static FilterRule ReadRule(ref Utf8JsonReader reader, string where)
    {
        PolicyReader.ExpectStartObject(ref reader, where);
        int? cr = null;
        ulong? bits = null, msr = null;
        CrTrigger? trigger = null;
        FilterAction? action = null;
        while (PolicyReader.NextProperty(ref reader) is { } name)
        {
            string key = $"{where}.{name}";
            switch (name)
            {
                case "cr":
                    ulong n = PolicyReader.UInt64(ref reader, key);
                    if (n > int.MaxValue || !FilterRule.IsFilterableCr((int)n)) throw PolicyReader.Error(key, $"CR{n} cannot be filtered (0 or 4)");
                    cr = (int)n;
                    break;
                case "bits":
                    bits = PolicyReader.UInt64(ref reader, key);
                    if (bits == 0) throw PolicyReader.Error(key, "must name at least one bit");
                    break;
                case "trap":
                    trigger = CrTriggers.Parse(PolicyReader.Choice(ref reader, key, CrTriggers.Names));
                    break;
                case "msr":
                    msr = PolicyReader.UInt64(ref reader, key);
                    if (msr > uint.MaxValue) throw PolicyReader.Error(key, $"0x{msr:x} is not a 32-bit MSR number");
                    break;
                case "action":
                    action = FilterActions.Parse(PolicyReader.Choice(ref reader, key, FilterActions.Names));
                    break;
                default:
                    throw PolicyReader.Error(key, "unknown key (expected cr, bits, trap, msr, action)");
            }
        }
        if (action is null) throw PolicyReader.Error($"{where}.action", "missing (allow, deny or ask)");
        if (msr is { } m)
        {
            if (cr is not null || bits is not null || trigger is not null) throw PolicyReader.Error(where, "an msr rule takes no cr, bits or trap");
            return new FilterRule(action.Value) { Msr = (uint)m };
        }
        if (cr is null) throw PolicyReader.Error(where, "a rule names either cr (with bits) or msr");
        if (bits is null) throw PolicyReader.Error($"{where}.bits", "missing (the CR bits whose writes trap)");
        return new FilterRule(action.Value) { Cr = cr, Bits = bits.Value, Trigger = trigger ?? CrTrigger.Change };
    }

    public override void Write(Utf8JsonWriter writer, FilterRule value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        if (value.Msr is { } msr)
        {
            writer.WriteString("msr", $"0x{msr:x}");
        }
        else
        {
            writer.WriteNumber("cr", value.Cr ?? 0);
            writer.WriteString("bits", $"0x{value.Bits:x}");
            writer.WriteString("trap", CrTriggers.Name(value.Trigger));
        }
        writer.WriteString("action", FilterActions.Name(value.Action));
        writer.WriteEndObject();
    }
}
