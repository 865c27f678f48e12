using System.Text.Json;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Cli;

/// <summary>
/// --events: every HekiGuest configure and denial event as one JSON object per line
/// (docs/abi.md section 5). Addresses, masks and values are "0x..." strings; each line is
/// flushed at once so the file is complete even if the VM stops abruptly. Under --profile vsm:
/// one "setup" object per set-up step the guest completes, and one "vtl-enable", "vtl-call" or
/// "vtl-return" object per VTL change (docs/vtl.md section 8).
/// </summary>
public sealed class JsonEventWriter(Stream stream) : IHekiEventSink, IVsmEventSink, IDisposable
{
    private readonly Utf8JsonWriter _json = new(stream);
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public void Configure(ConfigureEvent e)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "configure");
        _json.WriteNumber("vcpu", e.Vcpu);
        _json.WriteString("source", e.Source.ToString().ToLowerInvariant());
        _json.WriteString("rip", Hex(e.Rip));
        if (e.Cr is { } cr) _json.WriteNumber("cr", cr);
        if (e.PinnedHigh is { } high) _json.WriteString("pinned_high", Hex(high));
        if (e.PinnedLow is { } low) _json.WriteString("pinned_low", Hex(low));
        if (e.Ranges is { } ranges)
        {
            _json.WriteStartArray("ranges");
            foreach (var r in ranges)
            {
                _json.WriteStartObject();
                _json.WriteString("gpa", Hex(r.Gpa));
                _json.WriteNumber("pages", r.Pages);
                _json.WriteString("permissions", Hex(r.Permissions));
                _json.WriteEndObject();
            }
            _json.WriteEndArray();
        }
        _json.WriteEndObject();
        EndLine();
    }

    public void Denial(DenialEvent e)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "denial");
        _json.WriteString("kind", DenialKinds.Name(e.Kind));
        _json.WriteNumber("vcpu", e.Vcpu);
        _json.WriteString("rip", Hex(e.Rip));
        if (e.Cr is { } cr) _json.WriteNumber("cr", cr);
        if (e.Msr is { } msr) _json.WriteString("msr", Hex(msr));
        if (e.Value is { } value) _json.WriteString("value", Hex(value));
        if (e.Gpa is { } gpa) _json.WriteString("gpa", Hex(gpa));
        if (e.Gva is { } gva) _json.WriteString("gva", Hex(gva));
        if (e.Access is { } access) _json.WriteString("access", GuestAccess.Name(access));
        if (e.Cause is { } cause) _json.WriteString("cause", DenialCauses.Name(cause));
        if (e.Hypercall is { } nr) _json.WriteString("hypercall", Hex(nr));
        if (e.Error is { } error) _json.WriteNumber("error", error);
        _json.WriteEndObject();
        EndLine();
    }

    public void SetUp(VsmSetupStep step, int vcpu, ulong rip, ulong value)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "setup");
        _json.WriteString("step", step switch
        {
            VsmSetupStep.GuestOsIdSet => "guest-os-id",
            VsmSetupStep.HypercallPageEnabled => "hypercall-page",
            _ => "vp-assist-page",
        });
        _json.WriteNumber("vcpu", vcpu);
        _json.WriteString("rip", Hex(rip));
        _json.WriteString("value", Hex(value));
        _json.WriteEndObject();
        EndLine();
    }

    public void Vtl(VsmVtlEvent kind, int vcpu, int vtl)
    {
        _json.WriteStartObject();
        _json.WriteString("event", kind switch
        {
            VsmVtlEvent.PartitionVtlEnabled or VsmVtlEvent.VpVtlEnabled => "vtl-enable",
            VsmVtlEvent.VtlCall => "vtl-call",
            _ => "vtl-return",
        });
        if (kind is VsmVtlEvent.PartitionVtlEnabled or VsmVtlEvent.VpVtlEnabled)
        {
            _json.WriteString("scope", kind == VsmVtlEvent.PartitionVtlEnabled ? "partition" : "vp");
        }
        _json.WriteNumber("vcpu", vcpu);
        _json.WriteNumber("vtl", vtl);
        _json.WriteEndObject();
        EndLine();
    }

    private static string Hex(ulong v) => $"0x{v:x}";

    private void EndLine()
    {
        _json.Flush();
        stream.Write(NewLine);
        stream.Flush();
        _json.Reset();
    }

    public void Dispose()
    {
        _json.Dispose();
        stream.Dispose();
    }
}
