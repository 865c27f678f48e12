namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// The 8042 keyboard controller's command and status port (0x64), as far as a reboot needs it:
/// no keyboard is attached and the data port (0x60) is not modelled. Status reads say the input
/// and output buffers are empty, the system flag is set (POST passed) and whether the last byte
/// written was a command (bit 3). The "pulse output port" commands 0xF0-0xFF pulse low the output
/// port bits whose command bits are 0; output bit 0 is the CPU reset line, so 0xFE (and every
/// even command of that range) requests a reset. Other commands are accepted and ignored.
/// </summary>
public sealed class Keyboard8042(ushort port = Keyboard8042.DefaultCommandPort) : IPortDevice
{
    public const ushort DefaultCommandPort = 0x64;
    public const byte PulseResetLine = 0xFE;
    private const byte StatusSystemFlag = 0x04, StatusLastWasCommand = 0x08;
    private byte _status = StatusSystemFlag;

    public ushort Base { get; } = port;
    public ushort Count => 1;

    /// <summary>Raised, with a one-line description, when a command pulses the reset line.</summary>
    public event Action<string>? ResetRequested;

    public uint Read(ushort offset, int size) => size == 1 ? _status : 0xFFFF_FFFFu >> (32 - 8 * size);

    public void Write(ushort offset, int size, uint value)
    {
        if (size != 1) return;
        byte command = (byte)value;
        _status = StatusSystemFlag | StatusLastWasCommand;
        if (command >= 0xF0 && (command & 0x01) == 0)
            ResetRequested?.Invoke($"port 0x{Base:x} command 0x{command:x2} (8042 pulses the reset line)");
    }
}
