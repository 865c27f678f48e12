namespace HekiGuest.HostSim.Cpu;

/// <summary>XLAT/XLATB (Intel SDM vol. 2): AL = the byte at DS:[(E/R)BX + unsigned AL], the sum
/// wrapping at the address size; a segment override applies.</summary>
public sealed partial class Cpu
{
    private void Xlat(DecodedOp d)
    {
        ulong offset = (Gpr[RBX] + (byte)Gpr[RAX]) & d.AddrMask;
        SetReg(RAX, 1, Read((offset + _segBase[d.Seg]) & _ipMask, 1));
    }
}
