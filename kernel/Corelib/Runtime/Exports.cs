using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Internal.Runtime;

// Entry points that compiled code calls by symbol name.
internal static unsafe class Exports
{
    private static byte* ObjectAddress(object o) => *(byte**)Unsafe.AsPointer(ref o);

    [RuntimeExport("RhpNewFast")]
    private static object RhpNewFast(MethodTable* mt) => RuntimeImports.NewObject(mt);

    [RuntimeExport("RhpNewFinalizable")]
    private static object RhpNewFinalizable(MethodTable* mt) => RuntimeImports.NewObject(mt);

    [RuntimeExport("RhpNewArrayFast")]
    private static object RhpNewArrayFast(MethodTable* mt, int length) => RuntimeImports.NewArray(mt, length);

    [RuntimeExport("RhpNewPtrArrayFast")]
    private static object RhpNewPtrArrayFast(MethodTable* mt, int length) => RuntimeImports.NewArray(mt, length);

    [RuntimeExport("RhpNewArray")]
    private static object RhpNewArray(MethodTable* mt, int length) => RuntimeImports.NewArray(mt, length);

    [RuntimeExport("RhNewString")]
    private static object RhNewString(MethodTable* mt, int length) => RuntimeImports.NewArray(mt, length);

    [RuntimeExport("RhpReversePInvoke")]
    private static void RhpReversePInvoke(nint frame) { }

    [RuntimeExport("RhpReversePInvokeReturn")]
    private static void RhpReversePInvokeReturn(nint frame) { }

    [RuntimeExport("RhpPInvoke")]
    private static void RhpPInvoke(nint frame) { }

    [RuntimeExport("RhpPInvokeReturn")]
    private static void RhpPInvokeReturn(nint frame) { }

    [RuntimeExport("RhpGcPoll")]
    private static void RhpGcPoll() { }

    [RuntimeExport("RhpFallbackFailFast")]
    private static void RhpFallbackFailFast() => RuntimeFailure.Fail(FailureKind.StackCookie, "RhpFallbackFailFast");

    [RuntimeExport("RhpStackProbe")]
    private static void RhpStackProbe() { }

    // Called by the asm stub RhpInitialDynamicInterfaceDispatch with the object and the call
    // site's dispatch cell; returns the code address to jump to.
    [UnmanagedCallersOnly(EntryPoint = "heki_resolve_interface_call")]
    private static nint ResolveInterfaceCall(MethodTable** obj, nint* cell)
    {
        if (obj == null) RuntimeFailure.Fail(FailureKind.NullReference, "interface call on null");
        return InterfaceDispatch.Resolve(*obj, cell);
    }
}
