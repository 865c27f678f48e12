using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>The QMP wire objects, shaped as QEMU writes them.</summary>
public static class QmpMessages
{
    /// <summary>The version hostsim reports in the greeting and query-version.</summary>
    public static JsonObject Version() => new()
    {
        ["qemu"] = new JsonObject { ["micro"] = 0, ["minor"] = 1, ["major"] = 0 },
        ["package"] = "hostsim (HekiGuest)",
    };

    public static string Greeting() => new JsonObject
    {
        ["QMP"] = new JsonObject { ["version"] = Version(), ["capabilities"] = new JsonArray() },
    }.ToJsonString();

    public static string Return(JsonNode? value, JsonNode? id)
    {
        var o = new JsonObject { ["return"] = value ?? new JsonObject() };
        if (id is not null) o["id"] = id.DeepClone();
        return o.ToJsonString();
    }

    public static string Error(string errorClass, string description, JsonNode? id)
    {
        var o = new JsonObject { ["error"] = new JsonObject { ["class"] = errorClass, ["desc"] = description } };
        if (id is not null) o["id"] = id.DeepClone();
        return o.ToJsonString();
    }

    public static string Event(string name, JsonObject? data, DateTimeOffset when)
    {
        long us = when.ToUnixTimeMilliseconds() * 1000 + (when.Ticks / 10 % 1000);
        var o = new JsonObject
        {
            ["timestamp"] = new JsonObject { ["seconds"] = us / 1_000_000, ["microseconds"] = us % 1_000_000 },
            ["event"] = name,
        };
        if (data is not null) o["data"] = data;
        return o.ToJsonString();
    }
}
