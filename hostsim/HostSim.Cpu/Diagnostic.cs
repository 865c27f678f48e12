namespace HekiGuest.HostSim.Cpu;

/// <summary>A record of something the core refused to run: unimplemented or undecodable instructions.</summary>
public sealed record Diagnostic(ulong Rip, string Mnemonic, byte[] Bytes, string Message)
{
    public override string ToString() =>
        $"rip=0x{Rip:x} {Mnemonic} [{Convert.ToHexString(Bytes)}]: {Message}";
}
