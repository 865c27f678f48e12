using HekiGuest.HostSim.Control;
using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Gdb;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Cli;

/// <summary>
/// The host policy of one run: the --policy file with the command line over it (an option given
/// on the command line wins over its key; see docs/vmm.md for the key of each option).
/// </summary>
public sealed record ControlSettings
{
    public required string Profile { get; init; }
    public required IReadOnlyDictionary<DenialKind, DenialAction> Denials { get; init; }
    public ulong PinCr0 { get; init; }
    public ulong PinCr4 { get; init; }
    public IReadOnlyList<FilterRule> Filters { get; init; } = [];
    public RebootAction OnTripleFault { get; init; }

    /// <summary>What a guest's reset request does (--on-reboot, reboot.on-reboot); default reboot.</summary>
    public RebootAction OnReboot { get; init; } = RebootAction.Reset;
    public int MaxResets { get; init; }
    public TimeSpan? Timeout { get; init; }
    public long? MaxInstructions { get; init; }
    public bool Vtl1Debug { get; init; }

    /// <summary>Whether VTL1 may remove itself before a kexec (--kexec, key "kexec"; default allow).</summary>
    public bool KexecAllowed { get; init; } = true;
    public QmpEndpoint? Qmp { get; init; }
    public bool StartPaused { get; init; }
    public GdbEndpoint? Gdb { get; init; }
    public bool GdbWait { get; init; }

    public const int DefaultMaxResets = 8;

    /// <summary>Command-line values; null means the option was not given.</summary>
    public sealed record CommandLine(string? Profile, string? OnDenial, string[] Pins, string? Timeout, long? MaxInstructions, string? Qmp, bool StartPaused = false, bool ShowVtl1 = false, string? OnReboot = null, string? Gdb = null, bool GdbWait = false, string? Kexec = null);

    public static ControlSettings Merge(HostPolicy file, CommandLine cli)
    {
        string profile = cli.Profile ?? file.Profile ?? "heki";
        var denials = new Dictionary<DenialKind, DenialAction>();
        DenialAction all = file.OnDenial ?? DenialAction.Inject;
        if (cli.OnDenial is { } text)
        {
            all = DenialActionNames.Parse(text.Trim().ToLowerInvariant()) ?? throw new UsageError($"--on-denial {text}: expected inject, stop or ask");
        }
        foreach (var kind in DenialActions.Kinds)
        {
            denials[kind] = cli.OnDenial is null && file.Denials.TryGetValue(kind, out var a) ? a : all;
        }
        ulong cr0 = file.PinCr0 ?? 0, cr4 = file.PinCr4 ?? 0;
        if (cli.Pins.Length > 0) (cr0, cr4) = PinOption.Parse(cli.Pins);
        TimeSpan? timeout = cli.Timeout is { } t ? ValueParsers.ParseDuration(t) : file.Timeout;
        if (cli.MaxInstructions is <= 0) throw new UsageError("--max-instructions must be positive");
        QmpEndpoint? qmp = null;
        if (cli.Qmp is { } q)
        {
            try
            {
                qmp = QmpEndpoint.Parse(q);
            }
            catch (FormatException e)
            {
                throw new UsageError($"--qmp {e.Message}");
            }
        }
        RebootAction onReboot = file.OnReboot ?? RebootAction.Reset;
        if (cli.OnReboot is { } rebootText)
        {
            onReboot = RebootActions.Parse(rebootText.Trim().ToLowerInvariant()) ?? throw new UsageError($"--on-reboot {rebootText}: expected reboot or stop");
        }
        GdbEndpoint? gdb = null;
        if (cli.Gdb is { } g)
        {
            try
            {
                gdb = GdbEndpoint.Parse(g);
            }
            catch (FormatException e)
            {
                throw new UsageError($"--gdb {e.Message}");
            }
        }
        if (cli.GdbWait && gdb is null) throw new UsageError("--gdb-wait needs --gdb (only gdb can start the guest)");
        bool kexec = file.KexecAllowed ?? true;
        if (cli.Kexec is { } kexecText)
        {
            kexec = kexecText.Trim().ToLowerInvariant() switch
            {
                "allow" => true,
                "deny" => false,
                _ => throw new UsageError($"--kexec {kexecText}: expected allow or deny"),
            };
        }
        if (cli.StartPaused && qmp is null) throw new UsageError("-S/--paused needs --qmp (only a QMP client can start the guest)");
        return new ControlSettings
        {
            StartPaused = cli.StartPaused, Gdb = gdb, GdbWait = cli.GdbWait,
            Profile = profile, Denials = denials, PinCr0 = cr0, PinCr4 = cr4, Filters = file.Filters,
            OnTripleFault = file.OnTripleFault ?? RebootAction.Stop, OnReboot = onReboot, KexecAllowed = kexec, MaxResets = file.MaxResets ?? DefaultMaxResets,
            Timeout = timeout, MaxInstructions = cli.MaxInstructions ?? file.MaxInstructions, Vtl1Debug = cli.ShowVtl1 || (file.Vtl1Debug ?? false), Qmp = qmp,
        };
    }
}
