namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>Keeps every set-up step and VTL change the host reports.</summary>
internal sealed class RecordingVsmEvents : IVsmEventSink
{
    public List<(VsmSetupStep Step, ulong Rip, ulong Value)> Steps { get; } = [];

    public List<(VsmVtlEvent Kind, int Vtl)> VtlChanges { get; } = [];

    public void SetUp(VsmSetupStep step, int vcpu, ulong rip, ulong value) => Steps.Add((step, rip, value));

    public void Vtl(VsmVtlEvent kind, int vcpu, int vtl) => VtlChanges.Add((kind, vtl));
}
