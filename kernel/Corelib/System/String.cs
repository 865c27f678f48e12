using System.Runtime.CompilerServices;
using System.Runtime;
using Internal.Runtime;

namespace System;

// UTF-16 string, immutable, with the layout the compiler emits for literals.
public sealed unsafe class String
{
    private readonly int _stringLength;
    private char _firstChar;

    public static readonly string Empty = "";

    public int Length => _stringLength;

    [IndexerName("Chars")]
    public char this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_stringLength)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
            return Unsafe.Add(ref _firstChar, index);
        }
    }

    public ref readonly char GetPinnableReference() => ref _firstChar;

    internal static string FastAllocateString(int length)
    {
        if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
        return Unsafe.As<string>(RuntimeImports.NewArray(MethodTable.Of<string>(), length));
    }

    public static string Create(char* chars, int length)
    {
        string s = FastAllocateString(length);
        fixed (char* dst = &s._firstChar)
            Buffer.MemoryCopy(chars, dst, (ulong)length * 2, (ulong)length * 2);
        return s;
    }

    public static string FromAscii(byte* chars, int length)
    {
        string s = FastAllocateString(length);
        fixed (char* dst = &s._firstChar)
            for (int i = 0; i < length; i++) dst[i] = (char)chars[i];
        return s;
    }

    public static string Concat(string a, string b)
    {
        a ??= Empty; b ??= Empty;
        string s = FastAllocateString(a.Length + b.Length);
        fixed (char* dst = &s._firstChar)
        fixed (char* pa = &a._firstChar)
        fixed (char* pb = &b._firstChar)
        {
            Buffer.MemoryCopy(pa, dst, (ulong)a.Length * 2, (ulong)a.Length * 2);
            Buffer.MemoryCopy(pb, dst + a.Length, (ulong)b.Length * 2, (ulong)b.Length * 2);
        }
        return s;
    }

    public static string Concat(string a, string b, string c) => Concat(Concat(a, b), c);

    public static bool Equals(string a, string b)
    {
        if ((object)a == b) return true;
        if (a is null || b is null || a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) return false;
        return true;
    }

    public static bool operator ==(string a, string b) => Equals(a, b);
    public static bool operator !=(string a, string b) => !Equals(a, b);
    public override bool Equals(object o) => o is string s && Equals(this, s);

    public override int GetHashCode()
    {
        uint h = 2166136261;
        for (int i = 0; i < _stringLength; i++) h = (h ^ this[i]) * 16777619;
        return (int)h;
    }

    public override string ToString() => this;

    public bool StartsWith(string prefix)
    {
        if (prefix.Length > Length) return false;
        for (int i = 0; i < prefix.Length; i++)
            if (this[i] != prefix[i]) return false;
        return true;
    }

    public string Substring(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
        fixed (char* p = &_firstChar) return Create(p + start, length);
    }

    public string Substring(int start) => Substring(start, Length - start);

    public int IndexOf(char c, int start = 0)
    {
        for (int i = start; i < Length; i++) if (this[i] == c) return i;
        return -1;
    }
}
