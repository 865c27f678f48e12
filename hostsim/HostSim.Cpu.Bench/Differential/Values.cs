namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>Random values biased to edge cases: 0, ±1, sign boundaries of every width, small counts.</summary>
internal static class Values
{
    private static readonly ulong[] Edges =
    [
        0, 1, 2, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFE, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000,
        0xFFFF_FFFF_0000_0000, 0x8000_0000_0000_0001, 0xFFFF_FFFF_FFFF_FF80, 0xFFFF_FFFF_FFFF_8000,
        0xFFFF_FFFF_8000_0000, 0x0101_0101_0101_0101, 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA,
        0x10, 0x1F, 0x20, 0x3F, 0x40, 0x41,
    ];

    public static ulong Next(Random r)
    {
        switch (r.Next(8))
        {
            case 0:
            case 1:
                return Edges[r.Next(Edges.Length)];
            case 2:
                return (ulong)r.Next(0, 70);
            case 3:
                return Edges[r.Next(Edges.Length)] + (ulong)(r.Next(3) - 1);
            case 4:
                return (ulong)(long)(sbyte)r.Next(256);
            default:
                return (ulong)r.NextInt64() ^ ((ulong)r.Next(4) << 62);
        }
    }

    private static readonly ulong[] DoubleEdges =
    [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000,
        0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000,
        0x7FF4_0000_0000_0001, 0x0000_0000_0000_0001, 0x000F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF,
        0x41DF_FFFF_FFC0_0000, 0x41E0_0000_0000_0000, 0xC1E0_0000_0000_0000, 0xC1E0_0000_0020_0000,
        0x43E0_0000_0000_0000, 0xC3E0_0000_0000_0000, 0x3FE0_0000_0000_0000, 0x4004_0000_0000_0000,
    ];

    private static readonly uint[] SingleEdges =
    [
        0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000,
        0x7FA0_0001, 0x0000_0001, 0x007F_FFFF, 0x7F7F_FFFF, 0x4EFF_FFFF, 0x4F00_0000, 0xCF00_0000, 0x5F00_0000,
        0xDF00_0000, 0x3F00_0000, 0x3FC0_0000, 0x4020_0000,
    ];

    /// <summary>An XMM half: random bits, edge doubles, or two edge singles.</summary>
    public static ulong NextXmm(Random r)
    {
        switch (r.Next(6))
        {
            case 0: return DoubleEdges[r.Next(DoubleEdges.Length)];
            case 1: return SingleEdges[r.Next(SingleEdges.Length)] | ((ulong)SingleEdges[r.Next(SingleEdges.Length)] << 32);
            case 2: return BitConverter.DoubleToUInt64Bits((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-70, 70)));
            case 3:
                return BitConverter.SingleToUInt32Bits((float)((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-40, 40))))
                    | ((ulong)BitConverter.SingleToUInt32Bits((float)((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-40, 40)))) << 32);
            case 4: return BitConverter.DoubleToUInt64Bits(Math.Round((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(0, 66))) + (r.Next(4) - 2) * 0.5);
            default: return (ulong)r.NextInt64() ^ ((ulong)r.Next(4) << 62);
        }
    }
}
