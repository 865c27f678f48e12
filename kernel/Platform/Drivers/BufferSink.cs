namespace HekiGuest.Platform.Drivers;

// Captures output in a fixed buffer (self-tests of the formatter compare against it).
public sealed class BufferSink : ITextSink
{
    private readonly byte[] _buffer;
    public int Length;
    public bool Overflowed;

    public BufferSink(int capacity) { _buffer = new byte[capacity]; }

    public void Put(byte b)
    {
        if (Length >= _buffer.Length) { Overflowed = true; return; }
        _buffer[Length++] = b;
    }

    public void Clear() { Length = 0; Overflowed = false; }

    public bool Equals(string expected)
    {
        if (Overflowed || expected.Length != Length) return false;
        for (int i = 0; i < Length; i++)
            if (_buffer[i] != expected[i]) return false;
        return true;
    }

    public byte this[int index] => _buffer[index];
}
