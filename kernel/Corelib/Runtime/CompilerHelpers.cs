using System;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime.CompilerHelpers
{
    // ilc routes every implicit runtime check (bounds, null, overflow, division) here. With no
    // exception support each one is a fail-fast naming the failure.
    public static class ThrowHelpers
    {
        public static void ThrowOverflowException() => RuntimeFailure.Fail(FailureKind.Overflow);
        public static void ThrowIndexOutOfRangeException() => RuntimeFailure.Fail(FailureKind.IndexOutOfRange);
        public static void ThrowNullReferenceException() => RuntimeFailure.Fail(FailureKind.NullReference);
        public static void ThrowDivideByZeroException() => RuntimeFailure.Fail(FailureKind.DivideByZero);
        public static void ThrowInvalidCastException() => RuntimeFailure.Fail(FailureKind.InvalidCast);
        public static void ThrowArrayTypeMismatchException() => RuntimeFailure.Fail(FailureKind.ArrayTypeMismatch);
        public static void ThrowPlatformNotSupportedException() => RuntimeFailure.Fail(FailureKind.Unsupported, "platform not supported");
        public static void ThrowTypeLoadException() => RuntimeFailure.Fail(FailureKind.InvalidProgram, "type load");
        public static void ThrowArgumentException() => RuntimeFailure.Fail(FailureKind.ArgumentOutOfRange, "argument");
        public static void ThrowArgumentOutOfRangeException() => RuntimeFailure.Fail(FailureKind.ArgumentOutOfRange);
        public static void ThrowInvalidOperationException() => RuntimeFailure.Fail(FailureKind.InvalidOperation);
        public static void ThrowNotSupportedException() => RuntimeFailure.Fail(FailureKind.Unsupported);
        public static void ThrowFeatureBodyRemoved() => RuntimeFailure.Fail(FailureKind.Unsupported, "feature body removed by the compiler");
        public static void ThrowInvalidProgramException(int id) => RuntimeFailure.Fail(FailureKind.InvalidProgram);
        public static void ThrowInvalidProgramExceptionWithArgument(int id, string methodName) => RuntimeFailure.Fail(FailureKind.InvalidProgram, methodName);
        public static void ThrowTypeLoadExceptionWithArgument(int id, string className, string typeName, string messageArg) => RuntimeFailure.Fail(FailureKind.InvalidProgram, typeName);
        public static void ThrowTypeLoadException(int id, string className, string typeName) => RuntimeFailure.Fail(FailureKind.InvalidProgram, typeName);
        public static void ThrowMissingMethodException(int id, string methodName) => RuntimeFailure.Fail(FailureKind.InvalidProgram, methodName);
        public static void ThrowMissingFieldException(int id, string fieldName) => RuntimeFailure.Fail(FailureKind.InvalidProgram, fieldName);
        public static void ThrowFileNotFoundException(int id, string fileName) => RuntimeFailure.Fail(FailureKind.InvalidProgram, fileName);
        public static void ThrowBadImageFormatException(int id) => RuntimeFailure.Fail(FailureKind.InvalidProgram, "bad image format");
        public static void ThrowMarshalDirectiveException(int id) => RuntimeFailure.Fail(FailureKind.InvalidProgram, "marshalling");
        public static void ThrowAmbiguousMatchException(int id) => RuntimeFailure.Fail(FailureKind.InvalidProgram, "ambiguous match");
        public static void ThrowArgumentExceptionWithArgument(int id, string argument) => RuntimeFailure.Fail(FailureKind.ArgumentOutOfRange, argument);
    }

    internal static unsafe class LdTokenHelpers
    {
        private static RuntimeTypeHandle GetRuntimeTypeHandle(IntPtr pEEType) { RuntimeTypeHandle h; h._value = pEEType; return h; }
        private static RuntimeMethodHandle GetRuntimeMethodHandle(IntPtr pHandleSignature) { RuntimeMethodHandle h; h._value = pHandleSignature; return h; }
        private static RuntimeFieldHandle GetRuntimeFieldHandle(IntPtr pHandleSignature) { RuntimeFieldHandle h; h._value = pHandleSignature; return h; }
        private static Type GetRuntimeType(IntPtr pEEType) { RuntimeFailure.Fail(FailureKind.Unsupported, "typeof(T) as a Type object"); return null; }
    }
}

namespace System.Runtime.CompilerServices
{
    // The per-type record ilc places before a type's non-GC statics when it has a static
    // constructor that must run lazily. A non-zero address means "not run yet".
    public struct StaticClassConstructionContext
    {
        public nint cctorMethodAddress;
    }

    internal static unsafe class ClassConstructorRunner
    {
        private static void EnsureClassConstructorRun(StaticClassConstructionContext* context)
        {
            nint address = context->cctorMethodAddress;
            if (address == 0) return;
            // Mark first so a cctor that touches its own statics does not recurse forever.
            context->cctorMethodAddress = 0;
            ((delegate*<void>)address)();
        }

        private static object CheckStaticClassConstructionReturnGCStaticBase(StaticClassConstructionContext* context, object gcStaticBase)
        {
            EnsureClassConstructorRun(context);
            return gcStaticBase;
        }

        private static nint CheckStaticClassConstructionReturnNonGCStaticBase(StaticClassConstructionContext* context, nint nonGcStaticBase)
        {
            EnsureClassConstructorRun(context);
            return nonGcStaticBase;
        }

        private static object CheckStaticClassConstructionReturnThreadStaticBase(StaticClassConstructionContext* context, object threadStaticBase)
        {
            EnsureClassConstructorRun(context);
            return threadStaticBase;
        }
    }
}
