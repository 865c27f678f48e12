using System.Runtime.CompilerServices;

namespace System;

public readonly ref struct Span<T>
{
    private readonly ref T _reference;
    private readonly int _length;

    public unsafe Span(void* pointer, int length)
    {
        if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
        _reference = ref Unsafe.AsRef<T>(pointer);
        _length = length;
    }

    public Span(T[] array)
    {
        if (array is null) { _length = 0; return; }
        _reference = ref Unsafe.As<byte, T>(ref Unsafe.AddByteOffset(ref Unsafe.As<RawArrayData>(array).Data, 0));
        _length = array.Length;
    }

    public int Length => _length;
    public bool IsEmpty => _length == 0;

    public ref T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_length)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
            return ref Unsafe.Add(ref _reference, index);
        }
    }

    public Span<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)_length || (uint)length > (uint)(_length - start))
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
        return new Span<T>(ref Unsafe.Add(ref _reference, start), length);
    }

    private Span(ref T reference, int length) { _reference = ref reference; _length = length; }

    public void Fill(T value)
    {
        for (int i = 0; i < _length; i++) Unsafe.Add(ref _reference, i) = value;
    }

    public static implicit operator ReadOnlySpan<T>(Span<T> span) => new ReadOnlySpan<T>(ref span._reference, span._length);
}

public readonly ref struct ReadOnlySpan<T>
{
    private readonly ref T _reference;
    private readonly int _length;

    internal ReadOnlySpan(ref T reference, int length) { _reference = ref reference; _length = length; }

    public unsafe ReadOnlySpan(void* pointer, int length)
    {
        if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
        _reference = ref Unsafe.AsRef<T>(pointer);
        _length = length;
    }

    public int Length => _length;

    public ref readonly T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_length)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
            return ref Unsafe.Add(ref _reference, index);
        }
    }
}

// Overlay used to reach the first element of an array.
internal sealed class RawArrayData
{
    public uint Length;
    public uint Padding;
    public byte Data;
}
