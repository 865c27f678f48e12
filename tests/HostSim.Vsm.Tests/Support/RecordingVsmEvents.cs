namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>Keeps every set-up step the host reports.</summary>
internal sealed class RecordingVsmEvents : IVsmEventSink
{
    public List<(VsmSetupStep Step, ulong Rip, ulong Value)> Steps { get; } = [];

    public void SetUp(VsmSetupStep step, int vcpu, ulong rip, ulong value) => Steps.Add((step, rip, value));
}
