using System.Net.Sockets;
using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control;
using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Control.Vtl;
using HekiGuest.HostSim.Gdb;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Cli;

/// <summary>
/// Host userspace around one VM for `hostsim run`: the host interface (HekiGuest or VSM) with the
/// per-kind denial actions, the --events stream (also QMP events), the CR/MSR filter, and the
/// QMP control socket when --qmp is given, the gdb stub when --gdb is given; then the run itself
/// (with the reboot policy) and the QMP shutdown events.
/// </summary>
public sealed class HostControlSetup : IDisposable
{
    private readonly VirtualMachine _vm;
    private readonly ControlSettings _settings;
    private readonly QmpServer? _server;
    private readonly VmCommandGate _gate;
    private readonly EventTee? _events;
    private readonly HostCommands _commands;
    private string? _resetSource;
    private readonly GdbServer? _gdbServer;
    private readonly GdbStub? _gdb;

    public HostControlSetup(VirtualMachine vm, ControlSettings settings, HekiHostOptions? heki, Stream? eventsFile)
    {
        _vm = vm;
        _settings = settings;
        if (settings.Qmp is { } endpoint)
        {
            try
            {
                _server = new QmpServer(endpoint.Path);
            }
            catch (SocketException e)
            {
                eventsFile?.Dispose();
                throw new UsageError($"--qmp unix:{endpoint.Path}: cannot listen: {e.Message}");
            }
        }
        var events = (IControlEvents?)_server ?? NoEvents.Instance;
        _gate = new VmCommandGate(vm, events, () => _server?.HasClient ?? false);
        IHostAsker asker = _server is null ? NoClientAsker.Instance : _gate;
        _events = eventsFile is null && _server is null ? null : new EventTee(eventsFile, _server);
        EventWriter = _events is null ? null : new JsonEventWriter(_events);
        Denials = new DenialActions(asker);
        foreach (var (kind, action) in settings.Denials) Denials[kind] = action;

        IVtlStateSource vtl;
        IGdbVtlView? gdbVtl = null;
        if (heki is null)
        {
            var vsm = new VsmHost(vm, EventWriter, settings.Vtl1Debug) { Vtl1RemovalAllowed = () => settings.KexecAllowed };
            vtl = new VsmVtlState(vsm, settings.Vtl1Debug);
            gdbVtl = new VsmGdbVtlView(vsm, settings.Vtl1Debug);
        }
        else
        {
            Heki = new HekiHost(vm, heki with { Events = EventWriter, Arbiter = Denials });
            vtl = new SingleVtlState(settings.Vtl1Debug);
        }
        Filter = new RegisterFilter(asker, _events is null ? null : _events.WriteRecord) { Rules = settings.Filters };
        // no filter hooks at all unless something can use them (a rule, or a client that may add one)
        if (_server is not null || settings.Filters.Count > 0) RegisterWriteFilterHooks.Install(vm, Filter);
        _commands = new HostCommands(vm, _gate, Heki, Filter, Denials, vtl);
        vm.Resetting += OnResetting;
        if (_server is not null)
        {
            _server.ClientDisconnected += _gate.ClientGone;
            _server.Start(new QmpDispatcher(_commands.All()));
            vm.SliceBoundary = _gate.OnSliceBoundary;
        }
        if (settings.Gdb is { } gdbEndpoint)
        {
            try
            {
                _gdbServer = new GdbServer(gdbEndpoint);
            }
            catch (SocketException e)
            {
                _server?.Dispose();
                eventsFile?.Dispose();
                throw new ListenError($"--gdb tcp:{gdbEndpoint}: cannot listen: {e.Message}");
            }
            // monitor commands run the QMP handlers on the VM thread (the gate runs them inline there)
            _gdb = new GdbStub(new GdbMachine(vm, gdbVtl), _commands.All()) { WhileStopped = _gate.RunQueued };
            if (settings.GdbWait) _gdb.WaitForAttach();
            _gdbServer.Start(_gdb);
            var gate = _server is null ? null : (Action)_gate.OnSliceBoundary;
            var stub = _gdb;
            vm.SliceBoundary = gate is null ? stub.OnSliceBoundary : () =>
            {
                gate();
                stub.OnSliceBoundary();
            };
        }
    }

    /// <summary>The TCP port the gdb stub listens on (null without --gdb).</summary>
    public int? GdbPort => _gdbServer?.Port;

    public JsonEventWriter? EventWriter { get; }
    public HekiHost? Heki { get; }
    public RegisterFilter Filter { get; }
    public DenialActions Denials { get; }

    /// <summary>Runs the booted VM to its end: waits for a QMP client first (wait=on), resets on
    /// a guest's reset request (--on-reboot) and on a triple fault (reboot.on-triple-fault) when
    /// the policy says so, at most reboot.max-resets times, and tells the client how it ended.</summary>
    public MachineOutcome Run(RunLimits limits)
    {
        if (_server is not null && _settings.Qmp!.Wait)
        {
            Console.Error.WriteLine($"hostsim: waiting for a QMP client on {_settings.Qmp.Path}");
            _server.WaitForClient();
        }
        if (_gdbServer is not null && _settings.GdbWait)
            Console.Error.WriteLine($"hostsim: waiting for gdb on tcp:{_settings.Gdb!.Address}:{_gdbServer.Port} (target remote {_settings.Gdb.Address}:{_gdbServer.Port})");
        if (_settings.StartPaused) _gate.StartPaused();
        _gate.Started();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long instructions = 0;
        int resets = 0;
        while (true)
        {
            // after a reset the run goes on with what is left of the limits
            var remaining = new RunLimits(
                limits.Timeout is { } t ? TimeSpan.FromTicks(Math.Max((t - clock.Elapsed).Ticks, 1)) : null,
                limits.MaxInstructions is { } m ? Math.Max(m - instructions, 1) : null);
            var outcome = _vm.Run(remaining);
            instructions += outcome.Instructions;
            if (outcome.Kind == MachineStopKind.TripleFault && _settings.OnTripleFault == RebootAction.Reset && resets < _settings.MaxResets)
            {
                resets++;
                Console.Error.WriteLine($"hostsim: triple fault; reset {resets} of at most {_settings.MaxResets} (policy reboot.on-triple-fault = reset)");
                GuestReset("triple fault");
                continue;
            }
            if (outcome.Kind == MachineStopKind.GuestReset)
            {
                if (_settings.OnReboot == RebootAction.Reset && resets < _settings.MaxResets)
                {
                    resets++;
                    Console.Error.WriteLine($"hostsim: {outcome.Summary}; reset {resets} of at most {_settings.MaxResets} (--on-reboot reboot)");
                    GuestReset(outcome.Summary);
                    continue;
                }
                string why = _settings.OnReboot == RebootAction.Stop ? "--on-reboot stop" : $"{_settings.MaxResets} resets already (reboot.max-resets)";
                outcome = outcome with { Summary = $"{outcome.Summary}; stopped: {why}" };
            }
            var total = outcome with { Instructions = instructions, Elapsed = clock.Elapsed };
            Finish(total);
            return total;
        }
    }

    /// <summary>A reset the guest caused (a reset request or a triple fault the policy resets on):
    /// QEMU's RESET event with reason guest-reset, and a "reset" record in --events.</summary>
    private void GuestReset(string source)
    {
        _resetSource = source;
        try
        {
            _vm.Reset();
        }
        finally
        {
            _resetSource = null;
        }
        _server?.Publish("RESET", new JsonObject { ["guest"] = true, ["reason"] = "guest-reset" });
    }

    /// <summary>Every platform reset (also QMP's system_reset) as an --events record, written
    /// before the kernel is loaded again: {"event": "reset", "reason", "source", "count"}.</summary>
    private void OnResetting()
    {
        bool guest = _resetSource is not null;
        _events?.WriteRecord(new JsonObject
        {
            ["event"] = "reset",
            ["reason"] = guest ? "guest-reset" : "host-qmp-system-reset",
            ["source"] = _resetSource ?? "QMP system_reset",
            ["count"] = _vm.Resets,
        });
    }

    private void Finish(MachineOutcome outcome)
    {
        _gdb?.Finished(outcome.ExitCode);
        _gate.Finish();
        _server?.Close(() =>
        {
            _server.Publish("HOSTSIM_EXIT", new JsonObject
            {
                ["kind"] = outcome.Kind.ToString(), ["exit-code"] = outcome.ExitCode, ["summary"] = outcome.Summary,
            });
            _server.Publish("SHUTDOWN", new JsonObject
            {
                ["guest"] = outcome.Kind is not (MachineStopKind.HostQuit or MachineStopKind.Timeout or MachineStopKind.InstructionLimit),
                ["reason"] = ShutdownReason(outcome.Kind),
            });
        });
    }

    /// <summary>QEMU's ShutdownCause for how the run ended.</summary>
    public static string ShutdownReason(MachineStopKind kind) => kind switch
    {
        MachineStopKind.HostQuit => "host-qmp-quit",
        MachineStopKind.GuestExit or MachineStopKind.HaltedForever => "guest-shutdown",
        MachineStopKind.TripleFault or MachineStopKind.GuestReset => "guest-reset",
        _ => "host-error",
    };

    public void Dispose()
    {
        _gdbServer?.Dispose();
        _server?.Dispose();
        EventWriter?.Dispose();
    }

    private sealed class NoEvents : IControlEvents
    {
        public static NoEvents Instance { get; } = new();

        public void Publish(string name, JsonObject? data) { }
    }
}
