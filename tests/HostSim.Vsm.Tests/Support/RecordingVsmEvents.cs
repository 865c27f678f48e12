namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>Keeps every set-up step and VTL change the host reports.</summary>
internal sealed class RecordingVsmEvents : IVsmEventSink
{
    public List<(VsmSetupStep Step, ulong Rip, ulong Value)> Steps { get; } = [];

    public List<(VsmVtlEvent Kind, int Vtl)> VtlChanges { get; } = [];

    public void SetUp(VsmSetupStep step, int vcpu, ulong rip, ulong value) => Steps.Add((step, rip, value));

    public List<(VsmProtectionScope Scope, ulong FirstGpa, ulong Pages, uint Mask)> Protections { get; } = [];

    public List<(uint Register, ulong Value)> Controls { get; } = [];

    public List<VsmInterceptEvent> Intercepts { get; } = [];

    public void Vtl(VsmVtlEvent kind, int vcpu, int vtl) => VtlChanges.Add((kind, vtl));

    public void Protection(VsmProtectionScope scope, int vcpu, int vtl, ulong firstGpa, ulong pages, uint mask) => Protections.Add((scope, firstGpa, pages, mask));

    public void Control(int vcpu, uint register, ulong value) => Controls.Add((register, value));

    public void Intercept(VsmInterceptEvent e) => Intercepts.Add(e);

    public List<(int Vtl, byte Vector, uint ErrorCode, ulong Rip)> Injections { get; } = [];

    public void Injected(int vcpu, int vtl, byte vector, uint errorCode, ulong rip) => Injections.Add((vtl, vector, errorCode, rip));
}
