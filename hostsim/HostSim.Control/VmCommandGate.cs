using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Control;

/// <summary>
/// Serializes host commands onto the VM thread. A control thread calls <see cref="Invoke"/>: the
/// command is queued, the current instruction slice is cut short (<see cref="VirtualMachine.Interrupt"/>)
/// and the VM thread runs it at the slice boundary (<see cref="OnSliceBoundary"/>), so no command
/// ever sees the CPU in the middle of an instruction. While paused (QMP stop) the VM thread waits
/// at the boundary running commands; while it waits for a verdict (<see cref="Ask"/>) it runs them
/// from inside the trapped instruction, where commands that would change CPU state are refused.
/// </summary>
public sealed class VmCommandGate : IHostAsker
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly VirtualMachine _vm;
    private readonly IControlEvents _events;
    private readonly Func<bool> _clientPresent;
    private readonly object _gate = new();
    private readonly Queue<WorkItem> _items = new();
    private volatile int _queued;
    private volatile bool _paused;
    private volatile bool _finished;
    private volatile RunStatus _status = RunStatus.Prelaunch;
    private PendingAsk? _ask;
    private long _asks;
    private int _vmThread = -1;

    public VmCommandGate(VirtualMachine vm, IControlEvents events, Func<bool> clientPresent)
    {
        _vm = vm;
        _events = events;
        _clientPresent = clientPresent;
    }

    public RunStatus Status => _status;

    /// <summary>True while the vCPU waits for a verdict (a command must not change CPU state then).</summary>
    public bool InTrappedInstruction => _ask is not null;

    /// <summary>The question the vCPU waits on, if any: its id and the verdicts it accepts.</summary>
    public (long Id, IReadOnlyList<string> Verdicts)? PendingQuestion => _ask is { } a ? (a.Id, a.Verdicts) : null;

    /// <summary>
    /// Any thread but the VM's: runs <paramref name="command"/> on the VM thread at the next slice
    /// boundary and returns its result. A <see cref="QmpError"/> it throws comes back as is; any
    /// other exception becomes a GenericError (a host bug must not take the socket down).
    /// </summary>
    public JsonNode? Invoke(Func<JsonNode?> command, TimeSpan? timeout = null)
    {
        // on the VM thread itself (a gdb monitor command while the VM is stopped for gdb) the
        // command runs at once: the CPU is between instructions there too
        if (Environment.CurrentManagedThreadId == _vmThread) return command();
        var item = new WorkItem(command);
        lock (_gate)
        {
            if (_finished) throw QmpError.Generic("the VM has shut down");
            _items.Enqueue(item);
            _queued = _items.Count;
            Monitor.PulseAll(_gate);
        }
        _vm.Interrupt();
        if (!item.Done.Wait(timeout ?? DefaultTimeout))
            throw QmpError.Generic("the VM did not reach an instruction boundary in time; the command may still run");
        if (item.Error is { } e) throw e;
        return item.Result;
    }

    /// <summary>Before the run: the guest does not run until a client sends cont (QEMU's -S; status "prelaunch").</summary>
    public void StartPaused() => _paused = true;

    /// <summary>The VM starts running (after a client connected, if it had to wait). Called on the VM thread.</summary>
    public void Started()
    {
        _vmThread = Environment.CurrentManagedThreadId;
        if (_status == RunStatus.Prelaunch && !_paused) _status = RunStatus.Running;
    }

    /// <summary>VM thread, between slices: run what is queued; stay here while paused.</summary>
    public void OnSliceBoundary()
    {
        if (_queued == 0 && !_paused) return;
        Drain();
        while (_paused && !_finished && !_vm.Cpu.StopRequested)
        {
            lock (_gate)
            {
                while (_items.Count == 0 && _paused) Monitor.Wait(_gate);
            }
            Drain();
        }
    }

    /// <summary>VM thread, while another host debugger (gdb) holds the VM stopped: runs the commands queued so far without waiting.</summary>
    public void RunQueued()
    {
        if (_queued != 0) Drain();
    }

    /// <summary>VM thread (a command): pause at the next slice boundary; QMP's STOP event.</summary>
    public bool Pause()
    {
        if (_paused) return false;
        _paused = true;
        if (_status == RunStatus.Running) _status = RunStatus.Paused;
        _events.Publish("STOP", null);
        return true;
    }

    /// <summary>VM thread (a command): run again; QMP's RESUME event.</summary>
    public bool Resume()
    {
        if (!_paused) return false;
        _paused = false;
        if (_status is RunStatus.Paused or RunStatus.Prelaunch) _status = RunStatus.Running;
        _events.Publish("RESUME", null);
        return true;
    }

    /// <summary>Sends an event to the control client (any thread).</summary>
    public void Publish(string name, JsonObject? data) => _events.Publish(name, data);

    /// <summary>The run is over: commands queued or sent from now on fail; a waiting question
    /// gets its fallback.</summary>
    public void Finish()
    {
        List<WorkItem> orphans;
        lock (_gate)
        {
            _finished = true;
            _status = RunStatus.Shutdown;
            orphans = [.. _items];
            _items.Clear();
            _queued = 0;
            Monitor.PulseAll(_gate);
        }
        foreach (var item in orphans) item.Fail(QmpError.Generic("the VM has shut down"));
    }

    /// <summary>The control client disconnected: a question waiting on it takes its fallback.</summary>
    public void ClientGone()
    {
        lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>VM thread (a command): answers the pending question. Returns why not, or null.</summary>
    public string? Answer(long id, string verdict)
    {
        if (_ask is not { } a) return "no question is waiting for a verdict";
        if (a.Id != id) return $"question {id} is not waiting (the waiting one is {a.Id})";
        if (!a.Verdicts.Contains(verdict)) return $"verdict '{verdict}' is not one of {string.Join(", ", a.Verdicts)}";
        a.Verdict = verdict;
        return null;
    }

    public string Ask(string kind, JsonObject details, IReadOnlyList<string> verdicts, string fallback)
    {
        if (!_clientPresent() || _finished) return fallback;
        var ask = new PendingAsk(++_asks, verdicts);
        var previous = _status;
        _ask = ask;
        _status = RunStatus.Paused;
        try
        {
            _events.Publish("HOSTSIM_ASK", new JsonObject
            {
                ["ask-id"] = ask.Id, ["kind"] = kind, ["verdicts"] = new JsonArray([.. verdicts.Select(v => (JsonNode)v)]),
                ["default"] = fallback, ["details"] = details,
            });
            while (true)
            {
                Drain();
                if (ask.Verdict is { } verdict) return verdict;
                if (_finished || _vm.Cpu.StopRequested) return fallback;
                lock (_gate)
                {
                    if (_items.Count == 0 && !_clientPresent()) return fallback;
                    if (_items.Count == 0) Monitor.Wait(_gate, 250);
                }
            }
        }
        finally
        {
            _ask = null;
            if (_status == RunStatus.Paused && !_finished) _status = _paused ? RunStatus.Paused : previous;
        }
    }

    private void Drain()
    {
        while (true)
        {
            WorkItem? item;
            lock (_gate)
            {
                if (!_items.TryDequeue(out item)) return;
                _queued = _items.Count;
            }
            item.Run();
        }
    }

    private sealed class PendingAsk(long id, IReadOnlyList<string> verdicts)
    {
        public long Id { get; } = id;
        public IReadOnlyList<string> Verdicts { get; } = verdicts;
        public string? Verdict { get; set; }
    }

    private sealed class WorkItem(Func<JsonNode?> command)
    {
        public ManualResetEventSlim Done { get; } = new();
        public JsonNode? Result { get; private set; }
        public QmpError? Error { get; private set; }

        public void Run()
        {
            try
            {
                Result = command();
            }
            catch (QmpError e)
            {
                Error = e;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Error = QmpError.Generic($"internal error: {e.Message}");
            }
            Done.Set();
        }

        public void Fail(QmpError e)
        {
            Error = e;
            Done.Set();
        }
    }
}
