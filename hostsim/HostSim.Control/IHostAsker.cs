using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control;

/// <summary>
/// Host userspace asked for a verdict on something the guest is doing (a trapped register write,
/// a denial): the vCPU waits, in the middle of the instruction, until the control client answers
/// with one of <paramref name="verdicts"/>. With no client (or when it goes away) the answer is
/// <paramref name="fallback"/>. Called on the VM thread.
/// </summary>
public interface IHostAsker
{
    string Ask(string kind, JsonObject details, IReadOnlyList<string> verdicts, string fallback);
}

/// <summary>No control client: every question gets its fallback answer at once.</summary>
public sealed class NoClientAsker : IHostAsker
{
    public static NoClientAsker Instance { get; } = new();

    public string Ask(string kind, JsonObject details, IReadOnlyList<string> verdicts, string fallback) => fallback;
}
