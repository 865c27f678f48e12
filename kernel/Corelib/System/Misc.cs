namespace System
{
    // Present because the language requires it for some constructs; the guest has no
    // exception support: nothing ever throws (every runtime failure is a fail-fast).
    public class Exception
    {
        public Exception() { }
        public Exception(string message) { }
    }

    public static unsafe class Buffer
    {
        public static void MemoryCopy(void* source, void* destination, ulong destinationSizeInBytes, ulong sourceBytesToCopy)
        {
            if (sourceBytesToCopy > destinationSizeInBytes)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            Runtime.RuntimeImports.Memmove((byte*)destination, (byte*)source, (nuint)sourceBytesToCopy);
        }

        // Required by ilc (block copies of structs and arrays).
        internal static void Memmove(ref byte dest, ref byte src, nuint len)
        {
            fixed (byte* d = &dest) fixed (byte* s = &src) Runtime.RuntimeImports.Memmove(d, s, len);
        }

        internal static void BulkMoveWithWriteBarrier(ref byte dest, ref byte src, nuint len)
        {
            fixed (byte* d = &dest) fixed (byte* s = &src) Runtime.RuntimeImports.Memmove(d, s, len);
        }
    }

    internal static unsafe class SpanHelpers
    {
        internal static void Memmove(ref byte dest, ref byte src, nuint len) => Buffer.Memmove(ref dest, ref src, len);

        internal static void Fill(ref byte dest, byte value, nuint len)
        {
            fixed (byte* d = &dest) for (nuint i = 0; i < len; i++) d[i] = value;
        }

        internal static void ClearWithoutReferences(ref byte dest, nuint len)
        {
            fixed (byte* d = &dest) Runtime.RuntimeImports.MemZero(d, len);
        }

        internal static void ClearWithReferences(ref nint dest, nuint pointerSizeLength)
        {
            fixed (nint* d = &dest) Runtime.RuntimeImports.MemZero((byte*)d, pointerSizeLength * 8);
        }
    }

    public static class Math
    {
        public static int Min(int a, int b) => a < b ? a : b;
        public static int Max(int a, int b) => a > b ? a : b;
        public static long Min(long a, long b) => a < b ? a : b;
        public static long Max(long a, long b) => a > b ? a : b;
        public static ulong Min(ulong a, ulong b) => a < b ? a : b;
        public static ulong Max(ulong a, ulong b) => a > b ? a : b;
        public static double Abs(double d) => d < 0 ? -d : d;
        public static long Abs(long v) => v < 0 ? -v : v;

        // Checked double -> integer conversions (ilc helpers for conv.ovf).
        private static int ConvertToInt32Checked(double v)
        {
            if (!(v > -2147483649.0 && v < 2147483648.0)) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowOverflowException();
            return (int)v;
        }

        private static uint ConvertToUInt32Checked(double v)
        {
            if (!(v > -1.0 && v < 4294967296.0)) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowOverflowException();
            return (uint)v;
        }

        private static long ConvertToInt64Checked(double v)
        {
            if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowOverflowException();
            return (long)v;
        }

        private static ulong ConvertToUInt64Checked(double v)
        {
            if (!(v > -1.0 && v < 18446744073709551616.0)) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowOverflowException();
            return (ulong)v;
        }

        // Newton's iteration; exact enough for self-tests, no x87 or libm involved.
        public static double Sqrt(double x)
        {
            if (x <= 0) return 0;
            double g = x > 1 ? x / 2 : 1;
            for (int i = 0; i < 64; i++) { double n = 0.5 * (g + x / g); if (n == g) break; g = n; }
            return g;
        }
    }
}

namespace System.Runtime.CompilerServices
{
    public static class RuntimeFeature
    {
        public const string ByRefFields = nameof(ByRefFields);
        public const string UnmanagedSignatureCallingConvention = nameof(UnmanagedSignatureCallingConvention);
        public const string DefaultImplementationsOfInterfaces = nameof(DefaultImplementationsOfInterfaces);
    }

    public static unsafe class RuntimeHelpers
    {
        [Intrinsic]
        public static extern void InitializeArray(Array array, RuntimeFieldHandle fldHandle);

        public static int OffsetToStringData => 12;

        [Intrinsic]
        public static extern bool IsReferenceOrContainsReferences<T>();
    }

    public static unsafe class Unsafe
    {
        [Intrinsic] public static extern ref T As<TFrom, T>(ref TFrom source);
        [Intrinsic] public static extern T As<T>(object o) where T : class;
        [Intrinsic] public static extern void* AsPointer<T>(ref T value);
        [Intrinsic] public static extern ref T AsRef<T>(void* source);
        [Intrinsic] public static extern ref T AsRef<T>(scoped ref readonly T source);
        [Intrinsic] public static extern ref T Add<T>(ref T source, int elementOffset);
        [Intrinsic] public static extern ref T Add<T>(ref T source, nint elementOffset);
        [Intrinsic] public static extern ref T AddByteOffset<T>(ref T source, nint byteOffset);
        [Intrinsic] public static extern int SizeOf<T>();
        [Intrinsic] public static extern T Read<T>(void* source);
        [Intrinsic] public static extern void Write<T>(void* destination, T value);
        [Intrinsic] public static extern bool AreSame<T>(ref T left, ref T right);
        [Intrinsic] public static extern bool IsNullRef<T>(ref readonly T source);
        [Intrinsic] public static extern ref T NullRef<T>();
    }
}
