namespace HekiGuest.HostSim.Machine.Devices;

/// <summary>
/// The chipset's Reset Control Register at I/O port 0xCF9, as the PIIX3/PIIX4 and ICH datasheets
/// describe it: bit 1 SYS_RST chooses a hard (1) or soft (0) reset, bit 2 RST_CPU starts the reset
/// on its 0-to-1 transition, bit 3 FULL_RST (ICH) asks for a full power cycle. The register keeps
/// bits 1 and 3; bit 2 always reads 0 (it returns to 0 with the reset itself), so every write with
/// bit 2 set is a transition and requests a reset, which is what an OS's "write 0x02, then 0x06"
/// sequence relies on. hostsim has a single kind of reset (the platform reset of
/// <see cref="Execution.VirtualMachine.Reset"/>), so hard, soft and full resets are the same here,
/// as they are in QEMU. Only byte accesses decode (the register is one byte wide); a wider access
/// reads all ones and writes nothing. The register's value survives the reset it requested
/// (SYS_RST and FULL_RST are not cleared by a soft reset on real chipsets either).
/// </summary>
public sealed class ResetControlRegister(ushort port = ResetControlRegister.DefaultPort) : IPortDevice
{
    public const ushort DefaultPort = 0xCF9;
    public const byte SystemReset = 0x02, ResetCpu = 0x04, FullReset = 0x08;
    private byte _value;

    public ushort Base { get; } = port;
    public ushort Count => 1;

    /// <summary>Raised, with a one-line description, when a write requests a reset.</summary>
    public event Action<string>? ResetRequested;

    public uint Read(ushort offset, int size) => size == 1 ? _value : 0xFFFF_FFFFu >> (32 - 8 * size);

    public void Write(ushort offset, int size, uint value)
    {
        if (size != 1) return;
        byte b = (byte)value;
        _value = (byte)(b & (SystemReset | FullReset));
        if ((b & ResetCpu) == 0) return;
        string kind = (b & FullReset) != 0 ? "full" : (b & SystemReset) != 0 ? "hard" : "soft";
        ResetRequested?.Invoke($"port 0x{Base:x} value 0x{b:x2} ({kind} reset)");
    }
}
