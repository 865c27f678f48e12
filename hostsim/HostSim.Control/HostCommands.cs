using System.Text.Json;
using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Control.Vtl;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Control;

/// <summary>
/// The QMP commands (docs/vmm.md): QEMU's query-status, stop, cont, system_reset, quit,
/// query-version, and hostsim's own "hostsim-" commands for CR pins, the permission map, VTL
/// state, the CR/MSR filter, the denial actions and verdicts. Everything that reads or changes
/// the VM runs on the VM thread through the gate.
/// </summary>
public sealed class HostCommands(VirtualMachine vm, VmCommandGate gate, HekiHost? heki, RegisterFilter filter, DenialActions denials, IVtlStateSource vtl)
{
    /// <summary>Set by quit: the run ends with <see cref="MachineStopKind.HostQuit"/>.</summary>
    public bool QuitRequested { get; private set; }

    /// <summary>Set by system_reset (QEMU's RESET reason host-qmp-system-reset).</summary>
    public int ResetsRequested { get; private set; }

    public IEnumerable<QmpCommand> All() =>
    [
        // answered on the VM thread like every command, so it sees the state after earlier commands
        new("query-status", [], _ => gate.Status == RunStatus.Shutdown ? Status() : OnVm(Status)),
        new("query-version", [], _ => QmpMessages.Version()),
        new("stop", [], _ => OnVm(() => { gate.Pause(); return null; })),
        new("cont", [], _ => OnVm(() => { gate.Resume(); return null; })),
        new("system_reset", [], _ => OnVm(() =>
        {
            if (gate.InTrappedInstruction) throw QmpError.Generic("the vCPU waits for a verdict (hostsim-verdict) in the middle of an instruction; answer it first");
            vm.Reset();
            ResetsRequested++;
            gate.Publish("RESET", new JsonObject { ["guest"] = false, ["reason"] = "host-qmp-system-reset" });
            return null;
        })),
        new("quit", [], _ => OnVm(() =>
        {
            QuitRequested = true;
            vm.RequestHostStop(MachineStopKind.HostQuit, MachineOutcome.ExitHostQuit, "quit over QMP");
            return null;
        })),
        new("hostsim-query-cpu", [], _ => OnVm(() =>
        {
            var cpu = vm.Cpu;
            return new JsonObject
            {
                ["rip"] = Hex(cpu.Rip), ["cpl"] = cpu.Cpl, ["bitness"] = cpu.Bitness, ["instructions"] = cpu.InstructionsRetired,
                ["cr0"] = Hex(cpu.Cr0), ["cr3"] = Hex(cpu.Cr3), ["cr4"] = Hex(cpu.Cr4), ["efer"] = Hex(cpu.Efer), ["resets"] = vm.Resets,
            };
        })),
        new("hostsim-query-pins", [], _ => OnVm(() =>
        {
            var h = RequirePins();
            return new JsonObject { ["cr0"] = Pins(h, 0), ["cr4"] = Pins(h, 4) };
        })),
        new("hostsim-set-pins", ["cr", "high", "low"], a =>
        {
            int cr = Cr(a);
            ulong? high = a.OptionalUInt64("high"), low = a.OptionalUInt64("low");
            if (high is null && low is null) throw QmpError.Generic("Parameter 'high' or 'low' is missing");
            return OnVm(() =>
            {
                var h = RequirePins();
                string? refusal = h.HostPin(cr, high ?? h.Pins.PinnedHigh(cr), low ?? h.Pins.PinnedLow(cr));
                if (refusal is not null) throw QmpError.Generic(refusal);
                return Pins(h, cr);
            });
        }),
        new("hostsim-clear-pins", ["cr"], a =>
        {
            int[] crs = a.Has("cr") ? [Cr(a)] : [0, 4];
            return OnVm(() =>
            {
                var h = RequirePins();
                foreach (int cr in crs) h.HostPin(cr, 0, 0);
                return new JsonObject { ["cr0"] = Pins(h, 0), ["cr4"] = Pins(h, 4) };
            });
        }),
        new("hostsim-query-permissions", [], _ => OnVm(() =>
        {
            var map = RequirePermissions().Permissions;
            var ranges = new JsonArray();
            foreach (var r in map.NamedRuns())
                ranges.Add(new JsonObject { ["gpa"] = Hex(r.Gpa), ["pages"] = r.Pages, ["permissions"] = Hex(r.Permissions) });
            return new JsonObject { ["protected-pages"] = map.ProtectedPages, ["ranges"] = ranges };
        })),
        new("hostsim-set-permissions", ["gpa", "pages", "permissions"], a =>
        {
            ulong gpa = a.RequiredUInt64("gpa"), pages = a.RequiredUInt64("pages");
            ulong? permissions = a.OptionalUInt64("permissions");
            return OnVm(() =>
            {
                var h = RequirePermissions();
                if (h.Permissions.HostSet(gpa, pages, permissions) is { } refusal) throw QmpError.Generic(refusal);
                vm.Cpu.FlushTlb();
                return new JsonObject { ["protected-pages"] = h.Permissions.ProtectedPages };
            });
        }),
        new("hostsim-query-vtl", [], _ => OnVm(vtl.Query)),
        new("hostsim-query-filter", [], _ => OnVm(() => FilterState())),
        new("hostsim-set-filter", ["rules"], a =>
        {
            var raw = a.Raw("rules") ?? throw QmpArguments.Missing("rules");
            if (raw is not JsonArray) throw QmpArguments.WrongType("rules", "array");
            IReadOnlyList<FilterRule> rules;
            try
            {
                rules = FilterRuleReader.ParseArray(raw.ToJsonString());
            }
            catch (JsonException e)
            {
                throw QmpError.Generic($"Parameter 'rules' is invalid: {e.Message.Replace("filters[]", "rules[]")}");
            }
            return OnVm(() => { filter.Rules = rules; return FilterState(); });
        }),
        new("hostsim-query-denial-actions", [], _ => OnVm(() => DenialState())),
        new("hostsim-set-denial-action", ["kind", "action"], a =>
        {
            string kind = a.RequiredChoice("kind", [.. DenialActions.KindNames, "all"]);
            var action = DenialActionNames.Parse(a.RequiredChoice("action", DenialActionNames.Names))!.Value;
            return OnVm(() =>
            {
                if (heki is null) throw QmpError.Generic("denial actions need a HekiGuest host (--profile vsm has no denials)");
                if (kind == "all") denials.SetAll(action);
                else denials[DenialActions.ParseKind(kind)!.Value] = action;
                return DenialState();
            });
        }),
        new("hostsim-verdict", ["ask-id", "verdict"], a =>
        {
            ulong id = a.RequiredUInt64("ask-id");
            string verdict = a.RequiredString("verdict");
            return OnVm(() =>
            {
                if (gate.Answer((long)Math.Min(id, long.MaxValue), verdict) is { } refusal) throw QmpError.Generic(refusal);
                return null;
            });
        }),
    ];

    private JsonNode? OnVm(Func<JsonNode?> command) => gate.Invoke(command);

    private JsonObject Status() => new()
    {
        ["status"] = RunStatuses.Name(gate.Status), ["running"] = gate.Status == RunStatus.Running, ["singlestep"] = false,
    };

    private HekiHost RequirePins() => heki is { Profile: not HekiHostProfile.None } h
        ? h
        : throw QmpError.Generic("CR pins need a HekiGuest host interface (this --profile has none; a CR filter works under every profile)");

    private HekiHost RequirePermissions() => heki is { HasProtectMemory: true } h
        ? h
        : throw QmpError.Generic("the permission map needs --profile heki");

    private static int Cr(QmpArguments a)
    {
        ulong cr = a.RequiredUInt64("cr");
        if (cr is not (0 or 4)) throw QmpError.Generic($"Parameter 'cr' does not accept value '{cr}' (0 or 4)");
        return (int)cr;
    }

    private static JsonObject Pins(HekiHost h, int cr) => new()
    {
        ["pinned-high"] = Hex(h.Pins.PinnedHigh(cr)), ["pinned-low"] = Hex(h.Pins.PinnedLow(cr)),
    };

    private JsonObject FilterState() => new()
    {
        ["rules"] = JsonSerializer.SerializeToNode(filter.Rules.ToArray(), FilterRuleReader.Options),
        ["trapped"] = filter.Trapped, ["refused"] = filter.Refused,
    };

    private JsonObject DenialState()
    {
        var o = new JsonObject();
        foreach (var k in DenialActions.Kinds) o[DenialKinds.Name(k)] = DenialActionNames.Name(denials[k]);
        return o;
    }

    private static string Hex(ulong v) => $"0x{v:x}";
}
