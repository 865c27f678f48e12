// The primitive types the C# compiler and ilc require. Their layouts are contracts with the
// compiler: each primitive struct holds exactly one field of its own type.
namespace System;

public struct Void { }
public struct Boolean { internal bool m_value; public override string ToString() => m_value ? "True" : "False"; }
public struct Char { internal char m_value; }
public struct SByte { internal sbyte m_value; }
public struct Byte { internal byte m_value; }
public struct Int16 { internal short m_value; }
public struct UInt16 { internal ushort m_value; }
public struct Int32
{
    internal int m_value;
    public const int MaxValue = 0x7fffffff;
    public const int MinValue = unchecked((int)0x80000000);
}
public struct UInt32 { internal uint m_value; public const uint MaxValue = 0xffffffff; }
public struct Int64
{
    internal long m_value;
    public const long MaxValue = 0x7fffffffffffffffL;
    public const long MinValue = unchecked((long)0x8000000000000000UL);
}
public struct UInt64 { internal ulong m_value; public const ulong MaxValue = 0xffffffffffffffffUL; }
public struct Single { internal float m_value; }
public struct Double
{
    internal double m_value;
    #pragma warning disable CS1718
    public static bool IsNaN(double d) => d != d;
#pragma warning restore CS1718
}

public unsafe struct IntPtr
{
    private void* _value;
    public static readonly IntPtr Zero;
    public IntPtr(void* value) { _value = value; }
    public IntPtr(long value) { _value = (void*)value; }
    public static explicit operator IntPtr(void* value) => new IntPtr(value);
    public static explicit operator void*(IntPtr value) => value._value;
    public static explicit operator long(IntPtr value) => (long)value._value;
    public static explicit operator IntPtr(long value) => new IntPtr(value);
    public static bool operator ==(IntPtr a, IntPtr b) => a._value == b._value;
    public static bool operator !=(IntPtr a, IntPtr b) => a._value != b._value;
    public override bool Equals(object o) => o is IntPtr p && p._value == _value;
    public override int GetHashCode() => (int)(long)_value;
}

public unsafe struct UIntPtr
{
    private void* _value;
    public UIntPtr(void* value) { _value = value; }
    public static explicit operator UIntPtr(void* value) => new UIntPtr(value);
    public static explicit operator void*(UIntPtr value) => value._value;
}

public abstract class ValueType { }
public abstract class Enum : ValueType { }

public struct Nullable<T> where T : struct
{
    private readonly bool hasValue;
    internal T value;
    public Nullable(T value) { this.value = value; hasValue = true; }
    public bool HasValue => hasValue;
    public T Value { get { if (!hasValue) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidOperationException(); return value; } }
    public T GetValueOrDefault() => value;
    public static implicit operator Nullable<T>(T value) => new Nullable<T>(value);
    public static explicit operator T(Nullable<T> value) => value.Value;
}

public struct RuntimeTypeHandle { internal IntPtr _value; }
public struct RuntimeMethodHandle { internal IntPtr _value; }
public struct RuntimeFieldHandle { internal IntPtr _value; }

public abstract class Type { }

internal sealed unsafe class RuntimeType : Type
{
    internal Internal.Runtime.MethodTable* _pUnderlyingEEType;
}

public interface IDisposable { void Dispose(); }
