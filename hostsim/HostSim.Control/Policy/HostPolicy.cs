using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Control.Policy;

/// <summary>
/// Host userspace's policy for one VM (docs/vmm.md, the --policy file): every member is null or
/// empty when not set, so the command line can fill or override it member by member.
/// </summary>
public sealed record HostPolicy
{
    /// <summary>"profile": as --profile.</summary>
    public string? Profile { get; init; }

    /// <summary>"on-denial": every denial kind's action, as --on-denial.</summary>
    public DenialAction? OnDenial { get; init; }

    /// <summary>"denials": per-kind actions, over <see cref="OnDenial"/>.</summary>
    public IReadOnlyDictionary<DenialKind, DenialAction> Denials { get; init; } = new Dictionary<DenialKind, DenialAction>();

    /// <summary>"pins": {"cr0": MASK, "cr4": MASK}, as --pin (bits pinned high before boot and after each reset).</summary>
    public ulong? PinCr0 { get; init; }
    public ulong? PinCr4 { get; init; }

    /// <summary>"filters": the CR/MSR write filter's rules.</summary>
    public IReadOnlyList<FilterRule> Filters { get; init; } = [];

    /// <summary>"reboot": {"on-triple-fault": "stop"|"reset", "on-reboot": "reboot"|"stop", "max-resets": N}.</summary>
    public RebootAction? OnTripleFault { get; init; }

    /// <summary>"reboot.on-reboot": what a guest's reset request (port 0xCF9, the 8042) does, as --on-reboot.</summary>
    public RebootAction? OnReboot { get; init; }
    public int? MaxResets { get; init; }

    /// <summary>"limits": {"timeout": DURATION, "max-instructions": N}, as --timeout and --max-instructions.</summary>
    public TimeSpan? Timeout { get; init; }
    public long? MaxInstructions { get; init; }

    /// <summary>"kexec": "allow"|"deny", as --kexec: whether VTL1 may remove itself before a
    /// kexec (the HekiGuest RemoveVtl1 extension, docs/vtl.md section 17).</summary>
    public bool? KexecAllowed { get; init; }

    /// <summary>"vtl1-debug": opt-in to show VTL1 state to debuggers (stored and reported for now).</summary>
    public bool? Vtl1Debug { get; init; }
}
