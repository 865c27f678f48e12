using System.Globalization;
using System.Text;
using HekiGuest.HostSim.Control.Qmp;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// The gdb remote stub's target side: it handles packets on the VM thread while the VM is
/// stopped, and decides at every instruction-slice boundary (<see cref="OnSliceBoundary"/>)
/// whether the VM stops: a host breakpoint or watchpoint hit, the end of a single step, gdb's
/// Ctrl-C, a new gdb attaching, or --gdb-wait before the first instruction. The connection
/// thread only queues packets (<see cref="Received"/>) and Ctrl-C (<see cref="InterruptRequested"/>).
///
/// Cost: without a client the boundary check is a few field reads per slice (2^20 instructions);
/// with an idle client (the VM running under `continue`) the same, since breakpoints and
/// watchpoints live in the CPU core and cost nothing per instruction until set.
///
/// VTLs: the VM stops only while the vCPU runs the VTL gdb shows (VTL0 unless `monitor vtl 1`,
/// which needs the VTL1 debug opt-in): a breakpoint hit in the other VTL is passed over, a step
/// goes on until the vCPU is back, Ctrl-C waits for it. So gdb never sees VTL1's state without the opt-in.
/// </summary>
public sealed class GdbStub
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(20);

    private readonly GdbMachine _machine;
    private readonly GdbBreakpoints _points;
    private readonly GdbMonitor _monitor;
    private readonly object _lock = new();
    private readonly Queue<string> _inbox = new();
    private IRspChannel? _channel;
    private volatile bool _attachPending;
    private volatile bool _interrupt;
    private bool _waitForAttach;
    private bool _running = true;   // false while parked at a boundary
    private bool _stepping;
    private bool _killed;
    private string _lastStop = "S05";

    public GdbStub(GdbMachine machine, IEnumerable<QmpCommand>? hostCommands = null)
    {
        _machine = machine;
        _points = new GdbBreakpoints(machine.Vm.Cpu);
        _monitor = new GdbMonitor(machine, hostCommands ?? []);
    }

    /// <summary>Runs while the VM is parked for gdb, every 20 ms: lets other host userspace (the QMP gate) run its commands.</summary>
    public Action? WhileStopped { get; set; }

    /// <summary>Steps completed over RSP (for the figures).</summary>
    public long Steps { get; private set; }

    public bool HasClient => Volatile.Read(ref _channel) is not null;

    /// <summary>--gdb-wait: the VM stays stopped before its first instruction until gdb attaches and resumes it.</summary>
    public void WaitForAttach() => _waitForAttach = true;

    /// <summary>Connection thread: a gdb connected (one at a time). The VM stops at the next slice boundary.</summary>
    public void ClientConnected(IRspChannel channel)
    {
        lock (_lock)
        {
            _inbox.Clear();
            _channel = channel;
            _attachPending = true;
            Monitor.PulseAll(_lock);
        }
        _machine.Vm.Interrupt();
    }

    /// <summary>Connection thread: the client went away. Its breakpoints go and the VM runs on (as after D).</summary>
    public void ClientGone(IRspChannel channel)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_channel, channel)) return;
            _channel = null;
            Monitor.PulseAll(_lock);
        }
        _machine.Vm.Interrupt(); // the VM thread drops the breakpoints at the boundary
    }

    /// <summary>Connection thread: a packet with a good checksum.</summary>
    public void Received(string payload)
    {
        lock (_lock)
        {
            _inbox.Enqueue(payload);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Connection thread: Ctrl-C (0x03). The VM stops with SIGINT at the next boundary in the shown VTL.</summary>
    public void InterruptRequested()
    {
        _interrupt = true;
        _machine.Vm.Interrupt();
    }

    /// <summary>VM thread: the run ended (not by `k`): a gdb waiting on `continue` learns the exit status.</summary>
    public void Finished(int exitCode)
    {
        if (_killed) return;
        if (_running && Volatile.Read(ref _channel) is { } ch) ch.Send($"W{exitCode & 0xFF:x2}");
    }

    /// <summary>VM thread, between slices (<see cref="VirtualMachine.SliceBoundary"/>).</summary>
    public void OnSliceBoundary()
    {
        var cpu = _machine.Vm.Cpu;
        var hit = cpu.TakeHostDebugEvent();
        if (hit.Kind == HostDebugEventKind.None && !_stepping && !_interrupt && !_attachPending && !_waitForAttach && (HasClient || _points.Count == 0)) return;
        if (!HasClient && !_waitForAttach)
        {
            // detached or disconnected: nothing of gdb's may stay behind
            Detach();
            return;
        }
        string? stop = null;
        if (_attachPending || _waitForAttach)
        {
            _attachPending = false;
            _lastStop = "T05thread:01;";
        }
        else if (!_machine.RunsSelectedVtl)
        {
            // the vCPU runs a VTL gdb does not show: no stop here
            if (hit.Kind == HostDebugEventKind.Breakpoint) cpu.HostBreakResume = true;
            return;
        }
        else if (hit.Kind == HostDebugEventKind.Breakpoint)
        {
            stop = $"T05thread:01;{(_points.IsHardwareBreak(hit.Address) ? "hwbreak" : "swbreak")}:;";
        }
        else if (hit.Kind == HostDebugEventKind.Watchpoint)
        {
            stop = "T05thread:01;" + (_points.Describe(hit.Slots) ?? "");
        }
        else if (_stepping)
        {
            Steps++;
            stop = "T05thread:01;";
        }
        else if (_interrupt)
        {
            stop = "T02thread:01;";
        }
        else return;
        _interrupt = false;
        _stepping = false;
        _machine.Vm.SingleStep = false;
        if (stop is not null)
        {
            _lastStop = stop;
            _channel?.Send(stop);
        }
        Park();
    }

    /// <summary>The VM stays here, handling packets, until gdb resumes it, detaches, kills it or goes away.</summary>
    private void Park()
    {
        _running = false;
        try
        {
            while (true)
            {
                string? packet = null;
                bool gone;
                lock (_lock)
                {
                    if (_inbox.Count == 0) Monitor.Wait(_lock, IdlePoll);
                    if (_inbox.Count > 0) packet = _inbox.Dequeue();
                    gone = _channel is null;
                }
                // a gdb that attached meanwhile finds the VM stopped already: its attach is served
                _attachPending = false;
                if (packet is null)
                {
                    WhileStopped?.Invoke();
                    if (gone && !_waitForAttach)
                    {
                        Detach();
                        return;
                    }
                    continue;
                }
                string? reply = Handle(packet, out bool resume);
                if (reply is not null) _channel?.Send(reply);
                if (packet == "QStartNoAckMode" && _channel is { } ch) ch.NoAck = true;
                if (resume)
                {
                    _waitForAttach = false;
                    return;
                }
            }
        }
        finally
        {
            _running = true;
        }
    }

    private void Detach()
    {
        _points.Clear();
        _stepping = false;
        _interrupt = false;
        _machine.Vm.SingleStep = false;
    }

    /// <summary>One packet; returns the reply (null: none) and whether the VM resumes.</summary>
    internal string? Handle(string packet, out bool resume)
    {
        resume = false;
        if (packet.Length == 0) return "";
        try
        {
            return packet[0] switch
            {
                '?' => _lastStop,
                'g' when packet.Length == 1 => ReadAllRegisters(),
                'G' => WriteAllRegisters(packet.AsSpan(1)),
                'p' => ReadRegister(packet.AsSpan(1)),
                'P' => WriteRegister(packet.AsSpan(1)),
                'm' => ReadMemory(packet.AsSpan(1)),
                'M' => WriteMemory(packet.AsSpan(1), binary: false),
                'X' => WriteMemory(packet.AsSpan(1), binary: true),
                'c' or 's' or 'C' or 'S' => Resume(packet, out resume),
                'v' => HandleV(packet, out resume),
                'Z' or 'z' => Point(packet),
                'k' => Kill(out resume),
                'D' => Detached(out resume),
                'H' => "OK",
                'T' => "OK",
                'q' or 'Q' => Query(packet),
                _ => "",
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            return "E01";
        }
    }

    private string Query(string packet)
    {
        if (packet.StartsWith("qSupported", StringComparison.Ordinal))
            return $"PacketSize={RspFramer.MaxPayload:x};qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+";
        if (packet.StartsWith("qXfer:features:read:", StringComparison.Ordinal)) return TargetXml(packet["qXfer:features:read:".Length..]);
        if (packet.StartsWith("qRcmd,", StringComparison.Ordinal))
        {
            if (!RspCodec.TryParseHexBytes(packet.AsSpan(6), out var command)) return "E01";
            return RspCodec.Hex(_monitor.Execute(Encoding.UTF8.GetString(command)));
        }
        return packet switch
        {
            "QStartNoAckMode" => "OK",
            "qAttached" => "1",
            "qC" => "QC01",
            "qfThreadInfo" => "m01",
            "qsThreadInfo" => "l",
            "qOffsets" => "Text=0;Data=0;Bss=0",
            "qSymbol::" => "OK",
            _ => "",
        };
    }

    private static string TargetXml(string args)
    {
        // target.xml:OFFSET,LENGTH
        int colon = args.IndexOf(':');
        if (colon < 0) return "E00";
        if (args[..colon] != "target.xml") return "E00";
        var range = args[(colon + 1)..].Split(',');
        if (range.Length != 2 || !RspCodec.TryParseHexNumber(range[0], out ulong offset) || !RspCodec.TryParseHexNumber(range[1], out ulong length)) return "E01";
        var xml = Encoding.UTF8.GetBytes(GdbTargetDescription.Xml);
        if (offset > (ulong)xml.Length) return "E01";
        int take = (int)Math.Min(Math.Min(length, (ulong)xml.Length - offset), RspFramer.MaxPayload / 2);
        bool last = (ulong)take + offset >= (ulong)xml.Length;
        return (last ? "l" : "m") + RspCodec.EscapeBinary(xml.AsSpan((int)offset, take));
    }

    private string ReadAllRegisters()
    {
        var sb = new StringBuilder();
        Span<byte> value = stackalloc byte[16];
        foreach (var r in GdbTargetDescription.Registers)
        {
            if (_machine.TryReadRegister(r, value[..r.Bytes])) sb.Append(RspCodec.Hex(value[..r.Bytes]));
            else sb.Append('x', r.Bytes * 2);
        }
        return sb.ToString();
    }

    private string WriteAllRegisters(ReadOnlySpan<char> hex)
    {
        int at = 0;
        Span<byte> current = stackalloc byte[16];
        foreach (var r in GdbTargetDescription.Registers)
        {
            int chars = r.Bytes * 2;
            if (at + chars > hex.Length) break; // gdb may send fewer registers than described
            var text = hex.Slice(at, chars);
            at += chars;
            if (text.Contains('x')) continue;
            if (!RspCodec.TryParseHexBytes(text, out var bytes)) return "E01";
            bool known = _machine.TryReadRegister(r, current[..r.Bytes]);
            if (known && current[..r.Bytes].SequenceEqual(bytes)) continue;
            if (!known) continue;
            if (_machine.WriteRegister(r, bytes) is not null) return "E01";
        }
        return "OK";
    }

    private string ReadRegister(ReadOnlySpan<char> text)
    {
        if (!RspCodec.TryParseHexNumber(text, out ulong n)) return "E01";
        if (n >= (ulong)GdbTargetDescription.Registers.Count) return "E00";
        var r = GdbTargetDescription.Registers[(int)n];
        Span<byte> value = stackalloc byte[16];
        return _machine.TryReadRegister(r, value[..r.Bytes]) ? RspCodec.Hex(value[..r.Bytes]) : new string('x', r.Bytes * 2);
    }

    private string WriteRegister(ReadOnlySpan<char> text)
    {
        int eq = text.IndexOf('=');
        if (eq < 0 || !RspCodec.TryParseHexNumber(text[..eq], out ulong n) || !RspCodec.TryParseHexBytes(text[(eq + 1)..], out var bytes)) return "E01";
        if (n >= (ulong)GdbTargetDescription.Registers.Count) return "E00";
        return _machine.WriteRegister(GdbTargetDescription.Registers[(int)n], bytes) is null ? "OK" : "E01";
    }

    private static bool TryAddressLength(ReadOnlySpan<char> text, out ulong address, out ulong length)
    {
        length = 0;
        int comma = text.IndexOf(',');
        return comma > 0 & RspCodec.TryParseHexNumber(text[..Math.Max(comma, 0)], out address) && RspCodec.TryParseHexNumber(text[(comma + 1)..], out length);
    }

    private string ReadMemory(ReadOnlySpan<char> text)
    {
        if (!TryAddressLength(text, out ulong address, out ulong length)) return "E01";
        if (length == 0) return "";
        var buffer = new byte[(int)Math.Min(length, RspFramer.MaxPayload / 2)];
        int n = _machine.ReadMemory(address, buffer);
        return n == 0 ? "E14" : RspCodec.Hex(buffer.AsSpan(0, n));
    }

    private string WriteMemory(ReadOnlySpan<char> text, bool binary)
    {
        int colon = text.IndexOf(':');
        if (colon < 0 || !TryAddressLength(text[..colon], out ulong address, out ulong length)) return "E01";
        var data = text[(colon + 1)..];
        byte[] bytes;
        if (binary ? !RspCodec.TryUnescapeBinary(data, out bytes) : !RspCodec.TryParseHexBytes(data, out bytes)) return "E01";
        if ((ulong)bytes.Length != length) return "E01";
        if (bytes.Length == 0) return "OK";
        return _machine.WriteMemory(address, bytes) == bytes.Length ? "OK" : "E14";
    }

    private string? Resume(string packet, out bool resume)
    {
        // c[ADDR], s[ADDR], C sig[;ADDR], S sig[;ADDR]: the signal is not delivered (no signals on bare metal)
        resume = false;
        string rest = packet[1..];
        if (packet[0] is 'C' or 'S')
        {
            int semi = rest.IndexOf(';');
            rest = semi < 0 ? "" : rest[(semi + 1)..];
        }
        if (rest.Length > 0)
        {
            if (!RspCodec.TryParseHexNumber(rest, out ulong address)) return "E01";
            if (!_machine.RunsSelectedVtl) return "E01";
            _machine.Vm.Cpu.Rip = address;
        }
        StartRunning(step: packet[0] is 's' or 'S');
        resume = true;
        return null;
    }

    private string? HandleV(string packet, out bool resume)
    {
        resume = false;
        if (packet == "vCont?") return "vCont;c;C;s;S";
        if (packet == "vMustReplyEmpty") return "";
        if (packet.StartsWith("vCont;", StringComparison.Ordinal))
        {
            // one thread: the first action decides (vCont;s:1;c or vCont;c)
            string action = packet[6..].Split(';')[0].Split(':')[0];
            if (action.Length == 0 || action[0] is not ('c' or 'C' or 's' or 'S')) return "E01";
            StartRunning(step: action[0] is 's' or 'S');
            resume = true;
            return null;
        }
        if (packet.StartsWith("vKill", StringComparison.Ordinal))
        {
            Kill(out resume);
            return "OK";
        }
        return "";
    }

    private void StartRunning(bool step)
    {
        _stepping = step;
        _interrupt = false;
        _machine.Vm.SingleStep = step;
        // the instruction at a breakpoint we stopped on runs (gdb also steps over it itself)
        _machine.Vm.Cpu.HostBreakResume = true;
    }

    private string Point(string packet)
    {
        // Z/z TYPE,ADDR,KIND
        var parts = packet[1..].Split(',');
        if (parts.Length < 3 || !RspCodec.TryParseHexNumber(parts[1], out ulong address) || !RspCodec.TryParseHexNumber(parts[2].Split(';')[0], out ulong kind)) return "E01";
        bool insert = packet[0] == 'Z';
        switch (parts[0])
        {
            case "0" or "1":
                if (!insert)
                {
                    _points.RemoveBreak(address);
                    return "OK";
                }
                return _points.InsertBreak(address, hardware: parts[0] == "1") ?? "OK";
            case "2" or "3" or "4":
                var watch = (WatchKind)int.Parse(parts[0], CultureInfo.InvariantCulture);
                if (!insert)
                {
                    _points.RemoveWatch(watch, address, kind);
                    return "OK";
                }
                return _points.InsertWatch(watch, address, kind) ?? "OK";
            default:
                return "";
        }
    }

    private string? Kill(out bool resume)
    {
        _killed = true;
        _points.Clear();
        _machine.Vm.RequestHostStop(MachineStopKind.HostQuit, MachineOutcome.ExitHostQuit, "killed by gdb");
        resume = true;
        return null;
    }

    private string Detached(out bool resume)
    {
        Detach();
        resume = true;
        return "OK";
    }
}
