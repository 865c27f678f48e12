using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System.Runtime;

// Boxing and unboxing helpers ilc calls by name.
internal static unsafe class RuntimeExports
{
    private static byte* DataOf(object o) => *(byte**)Unsafe.AsPointer(ref o) + 8;

    public static object RhNewObject(MethodTable* mt) => RuntimeImports.NewObject(mt);

    public static object RhNewArray(MethodTable* mt, int length) => RuntimeImports.NewArray(mt, length);

    public static object RhBox(MethodTable* mt, ref byte data)
    {
        if (mt->ElementType == ElementType.Nullable)
            RuntimeFailure.Fail(FailureKind.Unsupported, "boxing Nullable<T>");
        object o = RuntimeImports.NewObject(mt);
        fixed (byte* src = &data) RuntimeImports.Memmove(DataOf(o), src, mt->BaseSize - 16);
        return o;
    }

    public static object RhBoxAny(ref byte data, MethodTable* mt)
    {
        if (!mt->IsValueType)
            return Unsafe.As<byte, object>(ref data);
        return RhBox(mt, ref data);
    }

    public static ref byte RhUnbox2(MethodTable* mt, object obj)
    {
        if (obj is null) RuntimeFailure.Fail(FailureKind.NullReference, "unbox of null");
        if (obj.GetMethodTable() != mt) RuntimeFailure.Fail(FailureKind.InvalidCast, "unbox to a different type");
        return ref *DataOf(obj);
    }

    public static void RhUnboxAny(object o, ref byte data, MethodTable* mt)
    {
        if (mt->IsValueType)
        {
            if (o is null || o.GetMethodTable() != mt) RuntimeFailure.Fail(FailureKind.InvalidCast, "unbox.any to a different type");
            fixed (byte* dst = &data) RuntimeImports.Memmove(dst, DataOf(o), mt->BaseSize - 16);
        }
        else
        {
            if (o != null && !TypeCast.AreTypesAssignable(o.GetMethodTable(), mt)) RuntimeFailure.Fail(FailureKind.InvalidCast, "unbox.any");
            Unsafe.As<byte, object>(ref data) = o;
        }
    }

    public static void RhUnboxNullable(ref byte data, MethodTable* mt, object obj)
    {
        RuntimeFailure.Fail(FailureKind.Unsupported, "unboxing to Nullable<T>");
    }

    public static int RhGetCurrentThreadStackTrace(nint* outputBuffer, uint outputBufferLength) => 0;
}
