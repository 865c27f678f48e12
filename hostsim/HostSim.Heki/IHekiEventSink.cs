namespace HekiGuest.HostSim.Heki;

/// <summary>Where host userspace receives the HekiGuest notifications (hostsim: a JSON-lines file).</summary>
public interface IHekiEventSink
{
    void Configure(ConfigureEvent e);

    void Denial(DenialEvent e);
}
