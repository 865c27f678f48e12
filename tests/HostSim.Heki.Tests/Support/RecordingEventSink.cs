namespace HekiGuest.HostSim.Heki.Tests.Support;

/// <summary>Host userspace for the tests: keeps every event, in the order the host reported them.</summary>
internal sealed class RecordingEventSink : IHekiEventSink
{
    public List<object> All { get; } = [];

    public IReadOnlyList<ConfigureEvent> Configures => All.OfType<ConfigureEvent>().ToList();

    public IReadOnlyList<DenialEvent> Denials => All.OfType<DenialEvent>().ToList();

    public void Configure(ConfigureEvent e) => All.Add(e);

    public void Denial(DenialEvent e) => All.Add(e);

    public void Clear() => All.Clear();
}
