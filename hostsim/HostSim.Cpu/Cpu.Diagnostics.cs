namespace HekiGuest.HostSim.Cpu;

/// <summary>Counting the #UDs the core raised for valid instructions it does not implement
/// (architecturally undefined opcodes raise a plain #UD and are not counted).</summary>
public sealed partial class Cpu
{
    private long _diagnosticsRaised;

    /// <summary>How many times the core has raised #UD for an instruction it lacks (monotonic;
    /// <see cref="Diagnostics"/> keeps only the most recent ones).</summary>
    public long DiagnosticsRaised => _diagnosticsRaised;
}
