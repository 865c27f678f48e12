using System.Text.Json;
using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>
/// QMP request handling as QEMU does it: capabilities negotiation first (any other command is
/// CommandNotFound until qmp_capabilities), then {"execute": NAME, "arguments": {...}, "id": ANY}
/// with the id echoed in the reply. Malformed JSON, a non-object, bad members, unknown commands
/// and bad arguments are error replies; nothing a client sends raises a host exception.
/// </summary>
public sealed class QmpDispatcher
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };
    private readonly Dictionary<string, QmpCommand> _commands = new(StringComparer.Ordinal);

    public QmpDispatcher(IEnumerable<QmpCommand> commands)
    {
        foreach (var c in commands) _commands.Add(c.Name, c);
        _commands.Add("qmp_capabilities", new QmpCommand("qmp_capabilities", ["enable"], Capabilities));
        _commands.Add("query-commands", new QmpCommand("query-commands", [], _ =>
            new JsonArray([.. _commands.Keys.Order(StringComparer.Ordinal).Select(n => (JsonNode)new JsonObject { ["name"] = n })])));
    }

    public IReadOnlyCollection<string> CommandNames => _commands.Keys;

    /// <summary>Handles one JSON text from a client; returns the reply to send.</summary>
    public string Handle(string text, QmpSessionState session)
    {
        if (ReferenceEquals(text, QmpFramer.TooLong) || text == QmpFramer.TooLong)
            return QmpMessages.Error(QmpError.GenericError, $"JSON parse error, input longer than {QmpFramer.MaxText} bytes", null);
        JsonNode? request;
        try
        {
            request = JsonNode.Parse(text, documentOptions: ParseOptions);
        }
        catch (JsonException e)
        {
            return QmpMessages.Error(QmpError.GenericError, $"JSON parse error, {FirstSentence(e.Message)}", null);
        }
        if (request is not JsonObject o) return QmpMessages.Error(QmpError.GenericError, "QMP input must be a JSON object", null);
        JsonNode? id = null;
        try
        {
            id = o["id"];
            return Execute(o, id, session);
        }
        catch (QmpError e)
        {
            return QmpMessages.Error(e.ErrorClass, e.Message, id);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or JsonException or FormatException)
        {
            // e.g. a duplicate member name, found when the object is first read
            return QmpMessages.Error(QmpError.GenericError, $"JSON parse error, {FirstSentence(e.Message)}", null);
        }
    }

    private string Execute(JsonObject o, JsonNode? id, QmpSessionState session)
    {
        string? name = null;
        JsonObject? arguments = null;
        foreach (var (key, value) in o)
        {
            switch (key)
            {
                case "execute":
                    if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                        throw QmpError.Generic("QMP input member 'execute' must be a string");
                    name = v.GetValue<string>();
                    break;
                case "arguments":
                    arguments = value as JsonObject ?? throw QmpError.Generic("QMP input member 'arguments' must be an object");
                    break;
                case "id":
                    break;
                default:
                    throw QmpError.Generic($"QMP input member '{key}' is unexpected");
            }
        }
        if (name is null) throw QmpError.Generic("QMP input lacks member 'execute'");
        if (!session.Negotiated && name != "qmp_capabilities")
            throw new QmpError(QmpError.CommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'");
        if (session.Negotiated && name == "qmp_capabilities")
            throw new QmpError(QmpError.CommandNotFound, "Capabilities negotiation is already complete, command ignored");
        if (!_commands.TryGetValue(name, out var command))
            throw new QmpError(QmpError.CommandNotFound, $"The command {name} has not been found");
        var args = new QmpArguments(arguments, command.Parameters);
        var result = command.Handler(args);
        if (name == "qmp_capabilities") session.Negotiated = true;
        return QmpMessages.Return(result, id);
    }

    private static JsonNode? Capabilities(QmpArguments args)
    {
        if (args.Raw("enable") is { } enable)
        {
            if (enable is not JsonArray list) throw QmpArguments.WrongType("enable", "array");
            foreach (var item in list)
            {
                string what = item is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : item?.ToJsonString() ?? "null";
                throw QmpError.Generic($"Capability '{what}' not available");
            }
        }
        return null;
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(". ", StringComparison.Ordinal);
        string s = cut < 0 ? message : message[..cut];
        return s.Replace('\n', ' ').Replace('\r', ' ');
    }
}
