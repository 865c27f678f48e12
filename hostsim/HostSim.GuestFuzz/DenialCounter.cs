using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>Counts the HekiGuest events of one seed by kind; keeps the first few denials for replays.</summary>
public sealed class DenialCounter : IHekiEventSink
{
    public const int Kept = 64;

    public int[] ByKind { get; } = new int[Enum.GetValues<DenialKind>().Length];
    public int Configures { get; private set; }
    public List<DenialEvent> First { get; } = [];

    public int Total => ByKind.Sum();

    public void Configure(ConfigureEvent e) => Configures++;

    public void Denial(DenialEvent e)
    {
        ByKind[(int)e.Kind]++;
        if (First.Count < Kept) First.Add(e);
    }
}
