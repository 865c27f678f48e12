using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.HostSim.Machine.Loading;

/// <summary>A little-endian byte buffer with alignment and back-patching, for boot structures.</summary>
internal sealed class BootInfoBuilder
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public void Align(int alignment)
    {
        while (_bytes.Count % alignment != 0) _bytes.Add(0);
    }

    public void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); _bytes.AddRange(b); }
    public void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _bytes.AddRange(b); }
    public void U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); _bytes.AddRange(b); }

    /// <summary>A NUL-terminated UTF-8 string (multiboot2 specifies UTF-8 command lines and module
    /// strings; for ASCII text, every protocol's encoding is the same bytes).</summary>
    public void CString(string s)
    {
        _bytes.AddRange(Encoding.UTF8.GetBytes(s));
        _bytes.Add(0);
    }

    public void PatchU32(int offset, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        for (int i = 0; i < 4; i++) _bytes[offset + i] = b[i];
    }

    public void PatchU64(int offset, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        for (int i = 0; i < 8; i++) _bytes[offset + i] = b[i];
    }

    public byte[] ToArray() => [.. _bytes];
}
