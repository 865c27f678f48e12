using System.Text.Json;
using System.Text.Json.Serialization;
using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Control.Policy;

/// <summary>
/// Reads a --policy file (JSON, comments and trailing commas allowed; schema in docs/vmm.md). An
/// unknown key or a bad value is a <see cref="PolicyError"/> naming the file, the line and the key.
/// </summary>
public sealed class HostPolicyFile : JsonConverter<HostPolicy>
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new HostPolicyFile() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 16,
    };

    public static IReadOnlyList<string> Keys { get; } = ["profile", "on-denial", "denials", "pins", "filters", "reboot", "limits", "vtl1-debug", "kexec"];

    public static HostPolicy Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new PolicyError($"cannot read policy file '{path}': {e.Message}");
        }
        return Parse(text, path);
    }

    public static HostPolicy Parse(string json, string name)
    {
        try
        {
            return JsonSerializer.Deserialize<HostPolicy>(json, Options) ?? throw new PolicyError($"{name}:1: the policy must be a JSON object");
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            string message = e.Message;
            int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
            if (cut < 0) cut = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut].TrimEnd('.', ' ');
            throw new PolicyError($"{name}:{line}: {message.Replace('\n', ' ')}");
        }
    }

    public override HostPolicy Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        PolicyReader.ExpectStartObject(ref reader, "policy");
        var p = new HostPolicy();
        var seen = new HashSet<string>();
        while (PolicyReader.NextProperty(ref reader) is { } key)
        {
            if (!seen.Add(key)) throw PolicyReader.Error(key, "given twice");
            p = key switch
            {
                "profile" => p with { Profile = ReadProfile(ref reader, key) },
                "on-denial" => p with { OnDenial = DenialActionNames.Parse(PolicyReader.Choice(ref reader, key, DenialActionNames.Names)) },
                "denials" => p with { Denials = ReadDenials(ref reader, key) },
                "pins" => ReadPins(ref reader, key, p),
                "filters" => p with { Filters = ReadFilters(ref reader, key) },
                "reboot" => ReadReboot(ref reader, key, p),
                "limits" => ReadLimits(ref reader, key, p),
                "vtl1-debug" => p with { Vtl1Debug = PolicyReader.Bool(ref reader, key) },
                "kexec" => p with { KexecAllowed = PolicyReader.Choice(ref reader, key, ["allow", "deny"]) == "allow" },
                _ => throw PolicyReader.Error(key, $"unknown key (expected one of {string.Join(", ", Keys)})"),
            };
        }
        return p;
    }

    private static string ReadProfile(ref Utf8JsonReader reader, string key)
    {
        string s = PolicyReader.String(ref reader, key);
        if (!HekiHostProfiles.TryParse(s, out _) && s != "vsm")
            throw PolicyReader.Error(key, $"'{s}' is not one of {string.Join(", ", HekiHostProfiles.Names)}, vsm");
        return s;
    }

    private static Dictionary<DenialKind, DenialAction> ReadDenials(ref Utf8JsonReader reader, string key)
    {
        PolicyReader.ExpectStartObject(ref reader, key);
        var d = new Dictionary<DenialKind, DenialAction>();
        while (PolicyReader.NextProperty(ref reader) is { } kind)
        {
            string k = $"{key}.{kind}";
            var parsed = DenialActions.ParseKind(kind) ?? throw PolicyReader.Error(k, $"unknown denial kind (expected one of {string.Join(", ", DenialActions.KindNames)})");
            d[parsed] = DenialActionNames.Parse(PolicyReader.Choice(ref reader, k, DenialActionNames.Names))!.Value;
        }
        return d;
    }

    private static HostPolicy ReadPins(ref Utf8JsonReader reader, string key, HostPolicy p)
    {
        PolicyReader.ExpectStartObject(ref reader, key);
        while (PolicyReader.NextProperty(ref reader) is { } name)
        {
            string k = $"{key}.{name}";
            int cr = name switch { "cr0" => 0, "cr4" => 4, _ => throw PolicyReader.Error(k, "unknown key (expected cr0, cr4)") };
            ulong mask = PolicyReader.UInt64(ref reader, k);
            ulong allowed = CrPinState.Allowed(cr);
            if ((mask & ~allowed) != 0) throw PolicyReader.Error(k, $"bits 0x{mask & ~allowed:x} cannot be pinned (CR{cr} allows 0x{allowed:x})");
            p = cr == 0 ? p with { PinCr0 = mask } : p with { PinCr4 = mask };
        }
        return p;
    }

    private static List<FilterRule> ReadFilters(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw PolicyReader.Error(key, $"expected an array of rules, found {PolicyReader.Describe(reader.TokenType)}");
        var rules = new List<FilterRule>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            rules.Add(FilterRuleReader.ReadRule(ref reader, $"{key}[{rules.Count}]"));
        }
        return rules;
    }

    private static HostPolicy ReadReboot(ref Utf8JsonReader reader, string key, HostPolicy p)
    {
        PolicyReader.ExpectStartObject(ref reader, key);
        while (PolicyReader.NextProperty(ref reader) is { } name)
        {
            string k = $"{key}.{name}";
            p = name switch
            {
                "on-triple-fault" => p with { OnTripleFault = PolicyReader.Choice(ref reader, k, ["stop", "reset"]) == "reset" ? RebootAction.Reset : RebootAction.Stop },
                "on-reboot" => p with { OnReboot = RebootActions.Parse(PolicyReader.Choice(ref reader, k, RebootActions.OnRebootNames)) },
                "max-resets" => p with { MaxResets = ReadCount(ref reader, k, 1_000_000) },
                _ => throw PolicyReader.Error(k, "unknown key (expected on-triple-fault, on-reboot, max-resets)"),
            };
        }
        return p;
    }

    private static HostPolicy ReadLimits(ref Utf8JsonReader reader, string key, HostPolicy p)
    {
        PolicyReader.ExpectStartObject(ref reader, key);
        while (PolicyReader.NextProperty(ref reader) is { } name)
        {
            string k = $"{key}.{name}";
            p = name switch
            {
                "timeout" => p with { Timeout = PolicyReader.Duration(ref reader, k) },
                "max-instructions" => p with { MaxInstructions = ReadPositive(ref reader, k) },
                _ => throw PolicyReader.Error(k, "unknown key (expected timeout, max-instructions)"),
            };
        }
        return p;
    }

    private static int ReadCount(ref Utf8JsonReader reader, string key, int max)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int n) && n >= 0 && n <= max) return n;
        throw PolicyReader.Error(key, $"expected an integer from 0 to {max}");
    }

    private static long ReadPositive(ref Utf8JsonReader reader, string key)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long n) && n > 0) return n;
        throw PolicyReader.Error(key, "expected a positive integer");
    }

    public override void Write(Utf8JsonWriter writer, HostPolicy value, JsonSerializerOptions options) =>
        throw new NotSupportedException("policies are read, not written");
}
