using System.Buffers.Binary;
using System.Text;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>Reads little-endian fields and NUL-terminated strings from guest physical memory,
/// the way a kernel reads its boot information.</summary>
internal sealed class GuestBytes(PhysicalMemory memory)
{
    public ushort U16(ulong at) => BinaryPrimitives.ReadUInt16LittleEndian(memory.Slice(at, 2));
    public uint U32(ulong at) => BinaryPrimitives.ReadUInt32LittleEndian(memory.Slice(at, 4));
    public ulong U64(ulong at) => BinaryPrimitives.ReadUInt64LittleEndian(memory.Slice(at, 8));
    public byte[] Bytes(ulong at, int length) => memory.Slice(at, length).ToArray();

    /// <summary>The string at <paramref name="at"/>; fails if no NUL follows within 4 KiB.</summary>
    public string CString(ulong at)
    {
        var span = memory.Slice(at, (int)Math.Min(4096UL, memory.Size - at));
        int nul = span.IndexOf((byte)0);
        Assert.True(nul >= 0, $"no NUL terminator after the string at 0x{at:x}");
        return Encoding.UTF8.GetString(span[..nul]);
    }
}
