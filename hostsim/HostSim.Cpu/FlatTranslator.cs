namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Identity translator for tests and pre-paging code: linear = physical + <see cref="Offset"/>;
/// anything outside [Offset, Offset + size) faults with #PF (not-present error code).
/// </summary>
public sealed class FlatTranslator(ulong size, ulong offset = 0) : IAddressTranslator
{
    public ulong Size { get; } = size;
    public ulong Offset { get; } = offset;

    public bool TryTranslate(ulong linear, AccessKind kind, int size, int cpl, out ulong physical, out GuestFault fault)
    {
        ulong p = linear - Offset;
        if (linear < Offset || p >= Size || Size - p < (ulong)size)
        {
            physical = 0;
            uint err = (kind == AccessKind.Write ? 2u : 0u) | (cpl == 3 ? 4u : 0u) | (kind == AccessKind.Execute ? 16u : 0u);
            fault = GuestFault.PF(linear, err);
            return false;
        }
        physical = p;
        fault = default;
        return true;
    }
}
