using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System.Runtime;

// Casting helpers ilc calls for `is`, `as`, casts and covariant array stores. Exact type
// identity, inheritance and interface maps; generic variance is not supported (fails as a
// non-match, never silently as a match).
internal static unsafe class TypeCast
{
    private static bool IsDerived(MethodTable* type, MethodTable* target)
    {
        for (MethodTable* t = type; t != null; t = t->BaseType)
            if (t == target) return true;
        return false;
    }

    private static bool Implements(MethodTable* type, MethodTable* itf) => type->FindInterface(itf) >= 0;

    internal static bool AreTypesAssignable(MethodTable* source, MethodTable* target)
    {
        if (source == target) return true;
        if (target->IsInterface) return Implements(source, target);
        if (target->IsArray)
        {
            if (!source->IsArray || source->ElementType != target->ElementType) return false;
            MethodTable* se = source->ArrayElementType, te = target->ArrayElementType;
            if (se == te) return true;
            // Covariance of reference-type arrays.
            return !se->IsValueType && !te->IsValueType && AreTypesAssignable(se, te);
        }
        return IsDerived(source, target);
    }

    private static object IsInstanceOfClass(MethodTable* target, object obj)
    {
        if (obj is null) return null;
        return IsDerived(obj.GetMethodTable(), target) ? obj : null;
    }

    private static object IsInstanceOfInterface(MethodTable* target, object obj)
    {
        if (obj is null) return null;
        return Implements(obj.GetMethodTable(), target) ? obj : null;
    }

    private static object IsInstanceOfAny(MethodTable* target, object obj)
    {
        if (obj is null) return null;
        return AreTypesAssignable(obj.GetMethodTable(), target) ? obj : null;
    }

    private static object IsInstanceOfException(MethodTable* target, object obj) => IsInstanceOfClass(target, obj);

    private static object CheckCastClass(MethodTable* target, object obj)
    {
        if (obj is null || IsDerived(obj.GetMethodTable(), target)) return obj;
        RuntimeFailure.Fail(FailureKind.InvalidCast, "object is not of the target class");
        return null;
    }

    private static object CheckCastClassSpecial(MethodTable* target, object obj) => CheckCastClass(target, obj);

    private static object CheckCastInterface(MethodTable* target, object obj)
    {
        if (obj is null || Implements(obj.GetMethodTable(), target)) return obj;
        RuntimeFailure.Fail(FailureKind.InvalidCast, "object does not implement the target interface");
        return null;
    }

    private static object CheckCastAny(MethodTable* target, object obj)
    {
        if (obj is null || AreTypesAssignable(obj.GetMethodTable(), target)) return obj;
        RuntimeFailure.Fail(FailureKind.InvalidCast, "object is not assignable to the target type");
        return null;
    }

    private static void StelemRef(object[] array, nint index, object obj)
    {
        if (array is null) RuntimeFailure.Fail(FailureKind.NullReference, "store into null array");
        if ((nuint)index >= (uint)array.Length) RuntimeFailure.Fail(FailureKind.IndexOutOfRange, "array store");
        ref object element = ref Unsafe.As<ArrayElement[]>(array)[index].Value;
        if (obj is null) { element = null; return; }
        MethodTable* elementType = array.GetMethodTable()->ArrayElementType;
        if (elementType != obj.GetMethodTable() && !AreTypesAssignable(obj.GetMethodTable(), elementType))
            RuntimeFailure.Fail(FailureKind.ArrayTypeMismatch, "covariant array store of the wrong type");
        element = obj;
    }

    private static ref object LdelemaRef(object[] array, nint index, MethodTable* elementType)
    {
        if (array is null) RuntimeFailure.Fail(FailureKind.NullReference, "address of element of null array");
        if ((nuint)index >= (uint)array.Length) RuntimeFailure.Fail(FailureKind.IndexOutOfRange, "array element address");
        if (array.GetMethodTable()->ArrayElementType != elementType)
            RuntimeFailure.Fail(FailureKind.ArrayTypeMismatch, "ldelema on a covariant array");
        return ref Unsafe.As<ArrayElement[]>(array)[index].Value;
    }

    private struct ArrayElement { public object Value; }
}
