namespace System.Runtime.InteropServices;

// Required by ilc's casting logic; no type in the guest implements it.
public unsafe interface IDynamicInterfaceCastable
{
    RuntimeTypeHandle GetInterfaceImplementation(RuntimeTypeHandle interfaceType);
    bool IsInterfaceImplemented(RuntimeTypeHandle interfaceType, bool throwIfNotImplemented);

    private static nint GetDynamicInterfaceImplementation(IDynamicInterfaceCastable instance, Internal.Runtime.MethodTable* interfaceType, ushort slot)
    {
        Internal.Runtime.RuntimeFailure.Fail(Internal.Runtime.FailureKind.Unsupported, "IDynamicInterfaceCastable");
        return 0;
    }
}
