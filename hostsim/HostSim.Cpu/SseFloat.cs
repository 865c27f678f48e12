namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// SSE floating-point semantics in portable C#: x86 NaN propagation (first operand's NaN quieted,
/// else the second's; invalid operations give the negative default QNaN), MIN/MAX operand order,
/// and "integer indefinite" for out-of-range conversions. Round-to-nearest-even only (MXCSR.RC is
/// not modelled) and no exception status flags.
/// </summary>
internal static class SseFloat
{
    public const uint DefaultNaN32 = 0xFFC0_0000;
    public const ulong DefaultNaN64 = 0xFFF8_0000_0000_0000;

    private static bool IsNaN32(uint b) => (b & 0x7F80_0000) == 0x7F80_0000 && (b & 0x007F_FFFF) != 0;

    private static bool IsNaN64(ulong b) => (b & 0x7FF0_0000_0000_0000) == 0x7FF0_0000_0000_0000 && (b & 0x000F_FFFF_FFFF_FFFF) != 0;

    public static uint Op32(SseOp op, uint a, uint b)
    {
        if (op is SseOp.Min or SseOp.Max)
        {
            float fa = BitConverter.UInt32BitsToSingle(a), fb = BitConverter.UInt32BitsToSingle(b);
            bool pickA = op == SseOp.Min ? fa < fb : fa > fb;
            return pickA ? a : b;
        }
        if (op == SseOp.Sqrt)
        {
            if (IsNaN32(b)) return b | 0x0040_0000;
            float s = BitConverter.UInt32BitsToSingle(b);
            if (s < 0) return DefaultNaN32;
            return BitConverter.SingleToUInt32Bits(MathF.Sqrt(s));
        }
        if (IsNaN32(a)) return a | 0x0040_0000;
        if (IsNaN32(b)) return b | 0x0040_0000;
        float x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        float r = op switch
        {
            SseOp.Add => x + y,
            SseOp.Sub => x - y,
            SseOp.Mul => x * y,
            _ => x / y,
        };
        return float.IsNaN(r) ? DefaultNaN32 : BitConverter.SingleToUInt32Bits(r);
    }

    public static ulong Op64(SseOp op, ulong a, ulong b)
    {
        if (op is SseOp.Min or SseOp.Max)
        {
            double fa = BitConverter.UInt64BitsToDouble(a), fb = BitConverter.UInt64BitsToDouble(b);
            bool pickA = op == SseOp.Min ? fa < fb : fa > fb;
            return pickA ? a : b;
        }
        if (op == SseOp.Sqrt)
        {
            if (IsNaN64(b)) return b | 0x0008_0000_0000_0000;
            double s = BitConverter.UInt64BitsToDouble(b);
            if (s < 0) return DefaultNaN64;
            return BitConverter.DoubleToUInt64Bits(Math.Sqrt(s));
        }
        if (IsNaN64(a)) return a | 0x0008_0000_0000_0000;
        if (IsNaN64(b)) return b | 0x0008_0000_0000_0000;
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double r = op switch
        {
            SseOp.Add => x + y,
            SseOp.Sub => x - y,
            SseOp.Mul => x * y,
            _ => x / y,
        };
        return double.IsNaN(r) ? DefaultNaN64 : BitConverter.DoubleToUInt64Bits(r);
    }

    /// <summary>CMPSS/CMPPS predicate 0..7 (EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD).</summary>
    public static bool Compare(double a, double b, int predicate)
    {
        bool unordered = double.IsNaN(a) || double.IsNaN(b);
        return predicate switch
        {
            0 => !unordered && a == b,
            1 => !unordered && a < b,
            2 => !unordered && a <= b,
            3 => unordered,
            4 => unordered || a != b,
            5 => unordered || !(a < b),
            6 => unordered || !(a <= b),
            _ => !unordered,
        };
    }

    /// <summary>UCOMIS/COMIS flags: unordered ZF PF CF = 111, less 001, equal 100, greater 000.</summary>
    public static ulong CompareFlags(double a, double b)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return Flag.ZF | Flag.PF | Flag.CF;
        if (a < b) return Flag.CF;
        if (a == b) return Flag.ZF;
        return 0;
    }

    public static ulong ToInt(double v, int size, bool truncate)
    {
        double r = truncate ? Math.Truncate(v) : Math.Round(v, MidpointRounding.ToEven);
        if (size == 4)
        {
            if (double.IsNaN(r) || r < int.MinValue || r > int.MaxValue) return 0x8000_0000;
            return (uint)(int)r;
        }
        if (double.IsNaN(r) || r < -9223372036854775808.0 || r >= 9223372036854775808.0) return 0x8000_0000_0000_0000;
        return (ulong)(long)r;
    }

    public static ulong SingleToDouble(uint b)
    {
        if (IsNaN32(b))
        {
            ulong sign = (ulong)(b >> 31) << 63;
            ulong payload = (ulong)(b & 0x003F_FFFF) << 29;
            return sign | 0x7FF8_0000_0000_0000 | payload;
        }
        return BitConverter.DoubleToUInt64Bits(BitConverter.UInt32BitsToSingle(b));
    }

    public static uint DoubleToSingle(ulong b)
    {
        if (IsNaN64(b))
        {
            uint sign = (uint)(b >> 63) << 31;
            uint payload = (uint)((b >> 29) & 0x003F_FFFF);
            return sign | 0x7FC0_0000 | payload;
        }
        return BitConverter.SingleToUInt32Bits((float)BitConverter.UInt64BitsToDouble(b));
    }
}
