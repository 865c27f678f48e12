using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// One cached, pre-digested instruction. Position independent: branch targets and RIP-relative
/// displacements are kept relative to the next instruction, so the entry depends only on the bytes
/// at its physical address and the code size (16/32/64).
/// </summary>
internal sealed class DecodedOp
{
    public ulong Phys;
    public int Bitness;
    public int Length;
    public Handler H;

    /// <summary>Operand size in bytes (1, 2, 4, 8; 16 for whole XMM).</summary>
    public int Size;

    /// <summary>Source operand size for MOVZX/MOVSX/CVTSI2xx etc.</summary>
    public int Size1;

    public OperandKind K0, K1, K2;

    /// <summary>Register index: 0-15 GPR (or XMM), 16-19 = AH, CH, DH, BH.</summary>
    public byte R0, R1, R2;

    // memory operand
    public byte Base = NoReg;
    public byte Index = NoReg;
    public byte Scale;
    public byte Seg;
    public bool Addr32;

    /// <summary>The effective address wraps at the address size: all ones (64-bit), 2^32 - 1
    /// (32-bit, <see cref="Addr32"/>) or 0xFFFF (16-bit addressing).</summary>
    public ulong AddrMask = ulong.MaxValue;
    public long Disp;

    public ulong Imm;
    public ulong Imm2;

    /// <summary>Branch target relative to the next instruction's RIP.</summary>
    public long Rel;

    public byte Cond;
    public byte Rep;    // 0 none, 1 REP/REPE, 2 REPNE
    public byte Aux;    // handler-specific sub-operation

    public Instruction Insn;
    public byte[] Bytes = [];

    public const byte NoReg = 255;
    public const byte RipReg = 16;

    public string Mnemonic => Insn.Mnemonic.ToString().ToLowerInvariant();
}
