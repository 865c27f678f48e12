namespace HekiGuest.HostSim.Cpu.Bench;

/// <summary>The same algorithm as Aot/Checksum.cs.txt, run natively: the reference for the guest result.</summary>
internal static class ManagedChecksum
{
    public static ulong Compute(byte[] data, int length)
    {
        const ulong P1 = 11400714785074694791UL, P2 = 14029467366897019727UL, P3 = 1609587929392839161UL;
        ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = unchecked(0 - P1);
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            v1 = Round(v1, BitConverter.ToUInt64(data, i));
            v2 = Round(v2, BitConverter.ToUInt64(data, i + 8));
            v3 = Round(v3, BitConverter.ToUInt64(data, i + 16));
            v4 = Round(v4, BitConverter.ToUInt64(data, i + 24));
        }
        ulong h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
        uint crc = 0xFFFFFFFFu;
        uint a = 1, b = 0;
        for (; i < length; i++)
        {
            byte x = data[i];
            crc ^= x;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
            a = (a + x) % 65521;
            b = (b + a) % 65521;
        }
        h ^= (ulong)~crc << 32 | (b << 16 | a);
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        return h ^ (h >> 32);
    }

    private static ulong Round(ulong acc, ulong input)
    {
        acc += input * 14029467366897019727UL;
        acc = (acc << 31) | (acc >> 33);
        return acc * 11400714785074694791UL;
    }

    private static ulong Rotl(ulong x, int r) => (x << r) | (x >> (64 - r));
}
