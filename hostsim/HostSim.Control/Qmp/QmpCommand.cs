using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>One QMP command: its name, the argument names it takes, and what it does.</summary>
public sealed record QmpCommand(string Name, IReadOnlyCollection<string> Parameters, Func<QmpArguments, JsonNode?> Handler);
