using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// 16-bit effective addresses (Intel SDM vol. 2, table 2-1): ModRM forms [BX+SI], [BX+DI],
/// [BP+SI], [BP+DI], [SI], [DI], [disp16] / [BP], [BX], each with an 8- or 16-bit displacement,
/// used in 16-bit code segments and with the 0x67 prefix in 32-bit code. The offset is the sum
/// modulo 2^16 (<see cref="DecodedOp.AddrMask"/>); BP-based forms default to SS (Iced reports the
/// segment, overrides included).
/// </summary>
internal static class Addressing16
{
    /// <summary>True when <paramref name="insn"/>'s memory operand uses 16-bit addressing.</summary>
    public static bool Uses(in Instruction insn)
    {
        var b = insn.MemoryBase;
        var i = insn.MemoryIndex;
        if (b != Register.None || i != Register.None)
        {
            return (b != Register.None ? b : i).IsGPR16();
        }
        return insn.MemoryDisplSize == 2;   // [disp16], moffs16
    }

    /// <summary>Fills the address recipe of a 16-bit memory operand: base, index (scale 1), the
    /// displacement as a 16-bit value, and the 16-bit wrap.</summary>
    public static void Digest(DecodedOp d, in Instruction insn)
    {
        var b = insn.MemoryBase;
        var i = insn.MemoryIndex;
        d.Base = b == Register.None ? DecodedOp.NoReg : (byte)(b - Register.AX);
        d.Index = i == Register.None ? DecodedOp.NoReg : (byte)(i - Register.AX);
        d.Scale = 0;
        d.Disp = (ushort)insn.MemoryDisplacement64;
        d.Addr32 = false;
        d.AddrMask = 0xFFFF;
    }
}
