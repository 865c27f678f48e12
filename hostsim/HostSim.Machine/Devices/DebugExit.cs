namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// QEMU's isa-debug-exit: a write of value v stops the machine with host exit code (v &lt;&lt; 1) | 1.
/// <see cref="Exited"/> fires on the first write so the machine can stop the CPU at once.
/// </summary>
public sealed class DebugExit(ushort basePort = 0xF4) : IPortDevice
{
    public ushort Base { get; } = basePort;
    public ushort Count => 4;
    public uint? Value { get; private set; }
    public int ExitCode => Value is { } v ? (int)(((v << 1) | 1) & 0xFF) : 0;
    public event Action? Exited;

    public uint Read(ushort offset, int size) => 0xFFFF_FFFF;

    /// <summary>Forgets the exit value (machine reset).</summary>
    public void Reset() => Value = null;

    public void Write(ushort offset, int size, uint value)
    {
        if (Value is not null) return;
        Value = size == 1 ? value & 0xFF : size == 2 ? value & 0xFFFF : value;
        Exited?.Invoke();
    }
}
