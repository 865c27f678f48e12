using System.Runtime;

namespace Internal.Runtime;

// Why the runtime stopped the machine. Numbers are stable: the kernel prints the name.
public enum FailureKind
{
    IndexOutOfRange = 1,
    NullReference = 2,
    InvalidCast = 3,
    OutOfMemory = 4,
    StackCookie = 5,
    Overflow = 6,
    DivideByZero = 7,
    ArrayTypeMismatch = 8,
    InvalidOperation = 9,
    ArgumentOutOfRange = 10,
    Unsupported = 11,
    InvalidProgram = 12,
    Assertion = 13,
    UnhandledFault = 14,
}

// No exceptions exist: every runtime failure ends here. The image that links this corelib
// (kernel or monitor) provides heki_fail_fast, which reports on its console and stops.
public static unsafe class RuntimeFailure
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall), RuntimeImport("*", "heki_fail_fast")]
    private static extern void HekiFailFast(int kind, char* detail, int detailLength);

    public static void Fail(FailureKind kind) => HekiFailFast((int)kind, null, 0);

    public static void Fail(FailureKind kind, string detail)
    {
        if (detail is null) { HekiFailFast((int)kind, null, 0); return; }
        fixed (char* p = detail) HekiFailFast((int)kind, p, detail.Length);
    }

    public static string Name(FailureKind kind) => kind switch
    {
        FailureKind.IndexOutOfRange => "index out of range",
        FailureKind.NullReference => "null reference",
        FailureKind.InvalidCast => "invalid cast",
        FailureKind.OutOfMemory => "out of memory",
        FailureKind.StackCookie => "stack cookie corrupted (stack buffer overrun)",
        FailureKind.Overflow => "arithmetic overflow",
        FailureKind.DivideByZero => "divide by zero",
        FailureKind.ArrayTypeMismatch => "array type mismatch",
        FailureKind.InvalidOperation => "invalid operation",
        FailureKind.ArgumentOutOfRange => "argument out of range",
        FailureKind.Unsupported => "unsupported runtime feature",
        FailureKind.InvalidProgram => "invalid program",
        FailureKind.Assertion => "assertion failed",
        FailureKind.UnhandledFault => "unhandled CPU exception",
        _ => "unknown failure",
    };
}
