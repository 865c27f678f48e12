using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>The trace sink of a replay: keeps the last <see cref="Capacity"/> instructions (with
/// their bytes, mode and CPL) and the machine's events, first and last few.</summary>
public sealed class ReplayTrace : ITraceSink
{
    public const int Capacity = 64;
    private const int EventsKept = 24;
    private readonly (long Index, ulong Rip, int Cpl, int Bitness, byte[] Bytes)[] _ring = new (long, ulong, int, int, byte[])[Capacity];
    private long _count;

    public List<string> FirstEvents { get; } = [];
    public Queue<string> LastEvents { get; } = new();
    public long EventCount { get; private set; }

    /// <summary>Mode changes (CPL or code size) outside the guest's own handler, with the instruction before them.</summary>
    public List<string> ModeChanges { get; } = [];

    public void Instruction(long index, ulong rip, int cpl, int bitness, ReadOnlySpan<byte> bytes)
    {
        if (_count > 0)
        {
            var prev = _ring[(_count - 1) % Capacity];
            bool handler = rip >= GuestLayout.Text && rip < GuestLayout.Text + GuestLayout.TextPages * 4096
                || prev.Rip >= GuestLayout.Text && prev.Rip < GuestLayout.Text + GuestLayout.TextPages * 4096;
            if ((prev.Cpl != cpl || prev.Bitness != bitness) && !handler && ModeChanges.Count < 32)
                ModeChanges.Add($"#{index} {prev.Bitness}-bit CPL{prev.Cpl} -> {bitness}-bit CPL{cpl} at 0x{rip:x}, after 0x{prev.Rip:x} [{Convert.ToHexString(prev.Bytes)}]");
        }
        _ring[_count % Capacity] = (index, rip, cpl, bitness, bytes.ToArray());
        _count++;
    }

    public void Event(string kind, IReadOnlyDictionary<string, object> fields)
    {
        EventCount++;
        string line = $"{kind} " + string.Join(" ", fields.Select(f => $"{f.Key}={f.Value}"));
        if (FirstEvents.Count < EventsKept) FirstEvents.Add(line);
        else
        {
            LastEvents.Enqueue(line);
            if (LastEvents.Count > EventsKept) LastEvents.Dequeue();
        }
    }

    /// <summary>The instructions kept, oldest first, disassembled in the mode each ran in.</summary>
    public IEnumerable<string> LastInstructions()
    {
        long first = Math.Max(0, _count - Capacity);
        var formatter = new IntelFormatter();
        var output = new StringOutput();
        for (long i = first; i < _count; i++)
        {
            var (index, rip, cpl, bitness, bytes) = _ring[i % Capacity];
            string text = "(unreadable)";
            string hex = "";
            if (bytes.Length > 0)
            {
                var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(bytes), rip);
                decoder.Decode(out var insn);
                formatter.Format(insn, output);
                text = output.ToStringAndReset();
                hex = Convert.ToHexString(bytes, 0, Math.Min(insn.Length, bytes.Length)).ToLowerInvariant();
            }
            yield return $"#{index,-8} {bitness}-bit CPL{cpl} {rip:x16}  {hex,-24} {text,-40} <{GuestInstruction.Symbols.Describe(rip)}>";
        }
    }
}
