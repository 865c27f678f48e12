using System.Text.Json.Nodes;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Control;

/// <summary>
/// The per-kind denial table (policy "denials", QMP hostsim-set-denial-action): each HekiGuest
/// denial kind injects, stops the VM, or asks the control client. Read and changed on the VM thread.
/// </summary>
public sealed class DenialActions(IHostAsker asker) : IDenialArbiter
{
    public static IReadOnlyList<string> Verdicts { get; } = ["inject", "stop"];

    private readonly DenialAction[] _actions = new DenialAction[Enum.GetValues<DenialKind>().Length];

    public static IReadOnlyList<DenialKind> Kinds { get; } = Enum.GetValues<DenialKind>();

    public static IReadOnlyList<string> KindNames { get; } = [.. Kinds.Select(DenialKinds.Name)];

    public static DenialKind? ParseKind(string name) => Kinds.Cast<DenialKind?>().FirstOrDefault(k => DenialKinds.Name(k!.Value) == name);

    public DenialAction this[DenialKind kind]
    {
        get => _actions[(int)kind];
        set => _actions[(int)kind] = value;
    }

    public void SetAll(DenialAction action) => Array.Fill(_actions, action);

    public DenialPolicy Decide(DenialEvent denial)
    {
        var action = this[denial.Kind];
        if (action == DenialAction.Ask)
        {
            var details = new JsonObject
            {
                ["kind"] = DenialKinds.Name(denial.Kind), ["vcpu"] = denial.Vcpu, ["rip"] = $"0x{denial.Rip:x}", ["summary"] = denial.Describe(),
            };
            action = asker.Ask("denial", details, Verdicts, "inject") == "stop" ? DenialAction.Stop : DenialAction.Inject;
        }
        return action == DenialAction.Stop ? DenialPolicy.Stop : DenialPolicy.Inject;
    }
}
