namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Receives executed instructions and machine events when tracing is on.</summary>
public interface ITraceSink
{
    void Instruction(long index, ulong rip, int cpl, int bitness, ReadOnlySpan<byte> bytes);
    void Event(string kind, IReadOnlyDictionary<string, object> fields);
}
