using System.Runtime.InteropServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Guest physical RAM: one contiguous block of host memory, either owned (allocated and zeroed
/// here) or borrowed (a region the caller keeps alive, e.g. an RWX page shared with the host CPU
/// in differential tests).
/// </summary>
public sealed unsafe class PhysicalMemory : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymousLinux = 0x20, MapAnonymousBsd = 0x1000;
    private readonly bool _owned;
    private readonly bool _mapped;
    private byte* _base;

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(void* address, nuint length);

    public PhysicalMemory(ulong size)
    {
        if (size == 0 || (size & 0xFFF) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "guest memory size must be a non-zero multiple of 4 KiB");
        }
        // On Unix, anonymous mmap gives page-aligned memory the kernel zeroes lazily, page by page
        // on first touch: a 128 MiB guest costs nothing until it uses its RAM. Elsewhere, an
        // aligned allocation cleared up front.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            void* p = Mmap(null, (nuint)size, ProtRead | ProtWrite, MapPrivate | (OperatingSystem.IsLinux() ? MapAnonymousLinux : MapAnonymousBsd), -1, 0);
            if (p == (void*)-1) throw new OutOfMemoryException($"cannot map {size >> 20} MiB of guest memory");
            _base = (byte*)p;
            _mapped = true;
        }
        else
        {
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
            NativeMemory.Clear(_base, (nuint)size);
        }
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
            if (_mapped) Munmap(_base, (nuint)Size);
            else NativeMemory.AlignedFree(_base);
        }
        _base = null;
    }
}
