using System.Text.Json.Nodes;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Control.Filters;

/// <summary>
/// Host userspace's CR-write and MSR-write filter (the Heki review's suggestion, like KVM's MSR
/// filter): writes that trip a rule trap here and are allowed, refused with #GP(0), or put to the
/// control client; the guest needs no enlightenment and the profile does not matter. Every trap
/// is recorded ("filter" event: --events and QMP HOSTSIM_FILTER). The first matching rule decides.
/// Runs on the VM thread; <see cref="Rules"/> is replaced there too (a QMP command at a slice boundary).
/// </summary>
public sealed class RegisterFilter(IHostAsker asker, Action<JsonObject>? record) : IRegisterWriteFilter
{
    public static IReadOnlyList<string> Verdicts { get; } = ["allow", "deny"];

    private FilterRule[] _rules = [];

    public IReadOnlyList<FilterRule> Rules
    {
        get => _rules;
        set => _rules = [.. value];
    }

    /// <summary>Writes trapped so far, and how many of them were refused.</summary>
    public long Trapped { get; private set; }
    public long Refused { get; private set; }

    public bool AllowControlRegisterWrite(int register, ulong oldValue, ulong newValue, ulong rip)
    {
        var rules = _rules;
        if (rules.Length == 0) return true;
        foreach (var rule in rules)
        {
            if (rule.Cr != register) continue;
            ulong tripped = CrTriggers.Tripped(rule.Trigger, rule.Bits, oldValue, newValue);
            if (tripped == 0) continue;
            var details = new JsonObject
            {
                ["register"] = $"cr{register}", ["vcpu"] = 0, ["rip"] = Hex(rip),
                ["old"] = Hex(oldValue), ["value"] = Hex(newValue), ["bits"] = Hex(tripped), ["action"] = FilterActions.Name(rule.Action),
            };
            return Decide(rule, details);
        }
        return true;
    }

    public bool AllowMsrWrite(uint msr, ulong value, ulong rip)
    {
        var rules = _rules;
        if (rules.Length == 0) return true;
        foreach (var rule in rules)
        {
            if (rule.Msr != msr) continue;
            var details = new JsonObject
            {
                ["register"] = "msr", ["msr"] = Hex(msr), ["vcpu"] = 0, ["rip"] = Hex(rip),
                ["value"] = Hex(value), ["action"] = FilterActions.Name(rule.Action),
            };
            return Decide(rule, details);
        }
        return true;
    }

    private bool Decide(FilterRule rule, JsonObject details)
    {
        Trapped++;
        bool allow = rule.Action switch
        {
            FilterAction.Allow => true,
            FilterAction.Deny => false,
            _ => asker.Ask("filter", (JsonObject)details.DeepClone(), Verdicts, "deny") == "allow",
        };
        if (!allow) Refused++;
        if (record is not null)
        {
            var line = new JsonObject { ["event"] = "filter" };
            foreach (var (k, v) in details) line[k] = v?.DeepClone();
            line["verdict"] = allow ? "allow" : "deny";
            record(line);
        }
        return allow;
    }

    private static string Hex(ulong v) => $"0x{v:x}";
}
