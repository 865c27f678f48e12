namespace System;

// Field names and initializer signatures are a contract with ilc: it emits delegate
// constructors as calls to these Initialize* methods and Invoke stubs that read the fields.
public abstract class Delegate
{
    internal object _firstParameter;
    internal object _helperObject;
    internal nint _extraFunctionPointerOrData;
    internal nint _functionPointer;

    private void InitializeClosedInstance(object firstParameter, nint functionPointer)
    {
        if (firstParameter is null) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowNullReferenceException();
        _functionPointer = functionPointer;
        _firstParameter = firstParameter;
    }

    private void InitializeClosedInstanceSlow(object firstParameter, nint functionPointer)
    {
        InitializeClosedInstance(firstParameter, functionPointer);
    }

    private void InitializeClosedInstanceToInterface(object firstParameter, nint dispatchCell)
    {
        Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowFeatureBodyRemoved();
    }

    private void InitializeClosedInstanceWithGVMResolution(object firstParameter, RuntimeMethodHandle tokenOfGenericVirtualMethod)
    {
        Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowFeatureBodyRemoved();
    }

    private void InitializeClosedStaticThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
    {
        _extraFunctionPointerOrData = functionPointer;
        _helperObject = firstParameter;
        _functionPointer = functionPointerThunk;
        _firstParameter = this;
    }

    private void InitializeOpenStaticThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
    {
        _firstParameter = this;
        _functionPointer = functionPointerThunk;
        _extraFunctionPointerOrData = functionPointer;
    }

    private void InitializeOpenInstanceThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
    {
        _firstParameter = this;
        _functionPointer = functionPointerThunk;
        _extraFunctionPointerOrData = functionPointer;
    }

    private void InitializeReversePInvokeThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
    {
        Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowFeatureBodyRemoved();
    }
}

public abstract class MulticastDelegate : Delegate { }

public delegate void Action();
public delegate void Action<in T>(T arg);
public delegate void Action<in T1, in T2>(T1 arg1, T2 arg2);
public delegate TResult Func<out TResult>();
public delegate TResult Func<in T, out TResult>(T arg);
public delegate TResult Func<in T1, in T2, out TResult>(T1 arg1, T2 arg2);
