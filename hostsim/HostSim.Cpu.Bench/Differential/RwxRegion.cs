using System.Runtime.InteropServices;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>An anonymous read-write-execute mapping (Linux x86-64 only) shared by the host CPU and the interpreter.</summary>
internal sealed unsafe partial class RwxRegion : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint addr, nuint length);

    public RwxRegion(ulong size)
    {
        nint p = Mmap(0, (nuint)size, ProtRead | ProtWrite | ProtExec, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1 || p == 0)
        {
            throw new InvalidOperationException($"mmap RWX failed (errno {Marshal.GetLastPInvokeError()})");
        }
        Base = (byte*)p;
        Size = size;
    }

    public byte* Base { get; private set; }

    public ulong Size { get; }

    public ulong Address => (ulong)Base;

    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public void Dispose()
    {
        if (Base != null)
        {
            _ = Munmap((nint)Base, (nuint)Size);
            Base = null;
        }
    }
}
