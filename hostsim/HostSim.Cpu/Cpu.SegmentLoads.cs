namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Far-pointer loads (Intel SDM vol. 2, LDS/LES/LFS/LGS/LSS): read the offset (operand size) and
/// the 16-bit selector after it, load the segment register with the same checks as MOV Sreg, then
/// write the register. LDS and LES do not exist in 64-bit mode (Iced decodes them as invalid).
/// </summary>
public sealed partial class Cpu
{
    private void LoadFarPointer(DecodedOp d)
    {
        int size = d.Size;
        ulong la = Ea(d);
        ulong offset = Read(la, size);
        ushort selector = (ushort)Read(la + (ulong)size, 2);
        LoadDataSegment(d.Aux, selector);
        SetReg(d.R0, size, offset);
    }
}
