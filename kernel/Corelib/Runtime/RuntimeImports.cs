using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System.Runtime;

// Allocation and memory primitives used by compiled code and by the rest of the corelib.
public static unsafe class RuntimeImports
{
    public static void Memmove(byte* dest, byte* src, nuint len)
    {
        if (dest == src || len == 0) return;
        if (dest < src || dest >= src + len)
        {
            nuint i = 0;
            for (; i + 8 <= len; i += 8) *(ulong*)(dest + i) = *(ulong*)(src + i);
            for (; i < len; i++) dest[i] = src[i];
        }
        else
        {
            nuint i = len;
            while (i >= 8) { i -= 8; *(ulong*)(dest + i) = *(ulong*)(src + i); }
            while (i > 0) { i--; dest[i] = src[i]; }
        }
    }

    public static void MemZero(byte* dest, nuint len)
    {
        nuint i = 0;
        for (; i + 8 <= len; i += 8) *(ulong*)(dest + i) = 0;
        for (; i < len; i++) dest[i] = 0;
    }

    public static object NewObject(MethodTable* mt)
    {
        // BaseSize counts the 8-byte header word that precedes the object pointer.
        byte* mem = Heap.Allocate(mt->BaseSize);
        byte* obj = mem + 8;
        *(MethodTable**)obj = mt;
        return Unsafe.AsRef<object>(&obj);
    }

    public static object NewArray(MethodTable* mt, int length)
    {
        if (length < 0) RuntimeFailure.Fail(FailureKind.Overflow, "negative array length");
        ulong size = mt->BaseSize + (ulong)mt->ComponentSize * (ulong)length;
        size = (size + 7) & ~7UL;
        if (size > 0x7FFFFFFFUL) RuntimeFailure.Fail(FailureKind.OutOfMemory, "array too large");
        byte* mem = Heap.Allocate(size);
        byte* obj = mem + 8;
        *(MethodTable**)obj = mt;
        *(int*)(obj + 8) = length;
        return Unsafe.AsRef<object>(&obj);
    }
}
