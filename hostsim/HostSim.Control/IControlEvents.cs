using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control;

/// <summary>Where the control layer sends asynchronous events (QMP: {"event": name, "data": ...}).</summary>
public interface IControlEvents
{
    void Publish(string name, JsonObject? data);
}
