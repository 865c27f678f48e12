using HekiGuest.HostSim.Cpu;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// gdb's breakpoints and watchpoints, all host-side (Cpu.HostDebug.cs): nothing is written into
/// guest memory and the guest's DR0-DR7 are untouched. Software (Z0) breakpoints are unlimited;
/// hardware breakpoints (Z1) and watchpoints (Z2-Z4) share four slots, as DR0-DR3 do. A watched
/// range is split into naturally aligned pieces of 1, 2, 4 or 8 bytes, one slot each.
/// </summary>
public sealed class GdbBreakpoints(Processor cpu)
{
    public const int Slots = 4;

    private readonly SortedDictionary<ulong, bool> _breaks = []; // address -> hardware
    private readonly Watch?[] _watch = new Watch?[Slots];

    private sealed record Watch(WatchKind Kind, ulong Address, ulong Length, ulong PieceAddress, int PieceLength);

    public int Count => _breaks.Count + _watch.Count(w => w is not null);

    public bool IsHardwareBreak(ulong address) => _breaks.TryGetValue(address, out bool hw) && hw;

    /// <summary>Z0/Z1: returns null or an error code.</summary>
    public string? InsertBreak(ulong address, bool hardware)
    {
        if (hardware && !_breaks.ContainsKey(address) && FreeSlots() - HardwareBreaks() < 1) return "E28";
        _breaks[address] = hardware || (_breaks.TryGetValue(address, out bool hw) && hw);
        cpu.SetHostBreakpoints(_breaks.Keys);
        return null;
    }

    public void RemoveBreak(ulong address)
    {
        _breaks.Remove(address);
        cpu.SetHostBreakpoints(_breaks.Keys);
    }

    /// <summary>Z2/Z3/Z4: returns null or an error code (E28: no free slot).</summary>
    public string? InsertWatch(WatchKind kind, ulong address, ulong length)
    {
        if (length is 0 or > 64) return "E22";
        var pieces = Split(address, length);
        var free = Enumerable.Range(0, Slots).Where(i => _watch[i] is null).ToList();
        if (pieces.Count > free.Count - HardwareBreaks()) return "E28";
        for (int i = 0; i < pieces.Count; i++) _watch[free[i]] = new Watch(kind, address, length, pieces[i].Address, pieces[i].Length);
        Apply();
        return null;
    }

    public void RemoveWatch(WatchKind kind, ulong address, ulong length)
    {
        for (int i = 0; i < Slots; i++)
        {
            if (_watch[i] is { } w && w.Kind == kind && w.Address == address && w.Length == length) _watch[i] = null;
        }
        Apply();
    }

    /// <summary>The stop-reply field for a watchpoint hit on <paramref name="slots"/>: "watch:ADDR;" etc.</summary>
    public string? Describe(uint slots)
    {
        for (int i = 0; i < Slots; i++)
        {
            if ((slots & (1u << i)) != 0 && _watch[i] is { } w)
            {
                string name = w.Kind switch { WatchKind.Read => "rwatch", WatchKind.Access => "awatch", _ => "watch" };
                return $"{name}:{w.Address:x};";
            }
        }
        return null;
    }

    public void Clear()
    {
        _breaks.Clear();
        Array.Clear(_watch);
        cpu.SetHostBreakpoints([]);
        Apply();
    }

    private int HardwareBreaks() => _breaks.Count(b => b.Value);

    private int FreeSlots() => _watch.Count(w => w is null);

    private void Apply()
    {
        var dr = new ulong[8];
        ulong dr7 = 0;
        uint readOnly = 0;
        for (int i = 0; i < Slots; i++)
        {
            if (_watch[i] is not { } w) continue;
            dr[i] = w.PieceAddress;
            ulong rw = w.Kind == WatchKind.Write ? 1UL : 3UL;
            ulong len = w.PieceLength switch { 1 => 0UL, 2 => 1UL, 8 => 2UL, _ => 3UL };
            dr7 |= (1UL << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i));
            if (w.Kind == WatchKind.Read) readOnly |= 1u << i;
        }
        dr[7] = dr7;
        cpu.SetHostWatchpoints(dr, readOnly);
    }

    /// <summary>Naturally aligned pieces of at most 8 bytes covering [address, address + length).</summary>
    internal static List<(ulong Address, int Length)> Split(ulong address, ulong length)
    {
        var pieces = new List<(ulong, int)>();
        ulong end = address + length;
        ulong at = address;
        while (at < end)
        {
            int size = 8;
            while (size > 1 && (at % (ulong)size != 0 || at + (ulong)size > end)) size /= 2;
            pieces.Add((at, size));
            at += (ulong)size;
        }
        return pieces;
    }
}
