namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// The fuzzer's only source of randomness: xorshift64* seeded through splitmix64, so a seed
/// produces the same guest on every machine and .NET version (System.Random's seeded sequence
/// is not a documented contract).
/// </summary>
public sealed class SeedRandom
{
    private ulong _state;

    public SeedRandom(long seed)
    {
        ulong z = unchecked((ulong)seed + 0x9E37_79B9_7F4A_7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        _state = (z ^ (z >> 31)) | 1;
    }

    public ulong NextU64()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545_F491_4F6C_DD1DUL;
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>).</summary>
    public int Next(int bound) => bound <= 1 ? 0 : (int)((NextU64() >> 33) % (ulong)bound);

    public byte NextByte() => (byte)(NextU64() >> 56);

    /// <summary>True with probability <paramref name="percent"/> / 100.</summary>
    public bool Chance(int percent) => Next(100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}
