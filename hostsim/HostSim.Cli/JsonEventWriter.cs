using System.Text.Json;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Cli;

/// <summary>
/// --events: every HekiGuest configure and denial event as one JSON object per line
/// (docs/abi.md section 5). Addresses, masks and values are "0x..." strings; each line is
/// flushed at once so the file is complete even if the VM stops abruptly. Under --profile vsm:
/// one "setup" object per set-up step the guest completes, one "vtl-enable", "vtl-call" or
/// "vtl-return" object per VTL change, one "vtl-protect" per protection change, one
/// "vtl-control" per VSM control register VTL1 sets, one "intercept" per secure intercept and
/// one "inject" per exception a higher VTL made pending for VTL0 (docs/vtl.md section 8).
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
            VsmVtlEvent.Vtl1Removed => "vtl-remove",
            VsmVtlEvent.Vtl1RemovalDenied => "vtl-remove-denied",
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

    public void Protection(VsmProtectionScope scope, int vcpu, int vtl, ulong firstGpa, ulong pages, uint mask)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "vtl-protect");
        _json.WriteString("scope", scope == VsmProtectionScope.Default ? "default" : "pages");
        _json.WriteNumber("vcpu", vcpu);
        _json.WriteNumber("vtl", vtl);
        if (scope == VsmProtectionScope.Pages) _json.WriteString("gpa", Hex(firstGpa));
        _json.WriteNumber("pages", pages);
        _json.WriteString("mask", Hex(mask));
        _json.WriteEndObject();
        EndLine();
    }

    public void Control(int vcpu, uint register, ulong value)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "vtl-control");
        _json.WriteNumber("vcpu", vcpu);
        _json.WriteString("register", Hex(register));
        _json.WriteString("value", Hex(value));
        _json.WriteEndObject();
        EndLine();
    }

    public void Injected(int vcpu, int vtl, byte vector, uint errorCode, ulong rip)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "inject");
        _json.WriteNumber("vcpu", vcpu);
        _json.WriteNumber("vtl", vtl);
        _json.WriteNumber("vector", vector);
        _json.WriteString("error_code", Hex(errorCode));
        _json.WriteString("rip", Hex(rip));
        _json.WriteEndObject();
        EndLine();
    }

    public void Intercept(VsmInterceptEvent e)
    {
        _json.WriteStartObject();
        _json.WriteString("event", "intercept");
        _json.WriteString("kind", e.Kind switch
        {
            VsmInterceptKind.Memory => "memory",
            VsmInterceptKind.Register => "register",
            _ => "msr",
        });
        _json.WriteNumber("vcpu", e.Vcpu);
        _json.WriteString("rip", Hex(e.Rip));
        switch (e.Kind)
        {
            case VsmInterceptKind.Memory:
                _json.WriteString("gpa", Hex(e.Gpa));
                _json.WriteString("gva", Hex(e.Gva));
                _json.WriteString("access", GuestAccess.Name(e.Access));
                if (e.PageWalk) _json.WriteString("cause", "page-walk");
                break;
            case VsmInterceptKind.Register:
                _json.WriteString("register", Hex(e.Register));
                _json.WriteString("value", Hex(e.Value));
                break;
            default:
                _json.WriteString("msr", Hex(e.Msr));
                _json.WriteString("value", Hex(e.Value));
                break;
        }
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
