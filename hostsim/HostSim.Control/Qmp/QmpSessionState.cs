namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>Per-connection QMP state: whether capabilities negotiation is done.</summary>
public sealed class QmpSessionState
{
    public bool Negotiated { get; set; }
}
