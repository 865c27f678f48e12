using System.Runtime.CompilerServices;

namespace System;

public abstract class Array
{
    // Length of a single-dimensional array: at object+8, padded to a pointer.
    private int _numComponents;
    private int _padding;

    public int Length => _numComponents;
}

// The compiler's view of T[] (single-dimensional, zero-based).
public class Array<T> : Array { }
