using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>A little-endian byte buffer with alignment and back-patching, for boot structures.</summary>
internal sealed class BootInfoBuilder
{
    // A plain growing array (no generic framework code over bytes to JIT at start-up).
    private byte[] _bytes = new byte[512];
    private int _length;

    public int Length => _length;

    public void Align(int alignment)
    {
        while (_length % alignment != 0) Add(0);
    }

    public void U16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), v);
    public void U32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), v);
    public void U64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), v);

    /// <summary>A NUL-terminated UTF-8 string (multiboot2 specifies UTF-8 command lines and module
    /// strings; for ASCII text, every protocol's encoding is the same bytes).</summary>
    public void CString(string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        utf8.AsSpan().CopyTo(Reserve(utf8.Length));
        Add(0);
    }

    public void PatchU32(int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_bytes.AsSpan(offset, 4), v);

    public void PatchU64(int offset, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(_bytes.AsSpan(offset, 8), v);

    public byte[] ToArray() => _bytes.AsSpan(0, _length).ToArray();

    private void Add(byte v) => Reserve(1)[0] = v;

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + count));
        var span = _bytes.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
