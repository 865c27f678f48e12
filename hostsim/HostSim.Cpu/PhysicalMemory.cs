using System.Runtime.InteropServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Guest physical RAM: one contiguous block of host memory, either owned (allocated and zeroed
/// here) or borrowed (a region the caller keeps alive, e.g. an RWX page shared with the host CPU
/// in differential tests).
/// </summary>
public sealed unsafe class PhysicalMemory : IDisposable
{
    private readonly bool _owned;
    private byte* _base;

    public PhysicalMemory(ulong size)
    {
        if (size == 0 || (size & 0xFFF) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "guest memory size must be a non-zero multiple of 4 KiB");
        }
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
        NativeMemory.Clear(_base, (nuint)size);
        Size = size;
        _owned = true;
    }

    public PhysicalMemory(byte* borrowed, ulong size)
    {
        _base = borrowed;
        Size = size;
        _owned = false;
    }

    public ulong Size { get; }

    public byte* Base => _base;

    public Span<byte> Slice(ulong physical, int length)
    {
        if (physical > Size || Size - physical < (ulong)length)
        {
            throw new ArgumentOutOfRangeException(nameof(physical));
        }
        return new Span<byte>(_base + physical, length);
    }

    public void Dispose()
    {
        if (_owned && _base != null)
        {
            NativeMemory.AlignedFree(_base);
        }
        _base = null;
    }
}
