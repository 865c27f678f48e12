using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>Turns one Iced <see cref="Instruction"/> into a <see cref="DecodedOp"/> (decode-cache miss path).</summary>
internal static class OpBuilder
{
    public static DecodedOp Build(in Instruction insn, ulong phys, int bitness, byte[] bytes)
    {
        var d = new DecodedOp
        {
            Phys = phys,
            Bitness = bitness,
            Length = insn.Length,
            Insn = insn,
            Bytes = bytes,
        };
        if (insn.IsInvalid)
        {
            d.H = InstructionLength.ExceedsLimit(bytes, bitness) ? Handler.TooLong : Handler.Invalid;
            return d;
        }

        d.Rep = insn.HasRepePrefix ? (byte)1 : insn.HasRepnePrefix ? (byte)2 : (byte)0;
        d.Cond = (byte)ConditionIndex(insn.ConditionCode);
        int opCount = insn.OpCount;
        for (int i = 0; i < opCount && i < 3; i++)
        {
            SetOperand(d, in insn, i);
        }
        d.Size = OperandSize(in insn);
        d.Size1 = opCount > 1 ? OperandSizeOf(in insn, 1) : d.Size;
        d.H = Classify(d, in insn);
        return d;
    }

    private static void SetOperand(DecodedOp d, in Instruction insn, int i)
    {
        OperandKind kind;
        byte reg = 0;
        switch (insn.GetOpKind(i))
        {
            case OpKind.Register:
                {
                    var r = insn.GetOpRegister(i);
                    if (r.IsGPR())
                    {
                        kind = OperandKind.Reg;
                        reg = GprIndex(r);
                    }
                    else if (r.IsXMM())
                    {
                        kind = OperandKind.Xmm;
                        reg = (byte)(r - Register.XMM0);
                    }
                    else
                    {
                        kind = OperandKind.Other;
                    }
                    break;
                }
            case OpKind.Memory:
                kind = OperandKind.Mem;
                SetMemory(d, in insn);
                break;
            case OpKind.Immediate8:
            case OpKind.Immediate8_2nd:
            case OpKind.Immediate16:
            case OpKind.Immediate32:
            case OpKind.Immediate64:
            case OpKind.Immediate8to16:
            case OpKind.Immediate8to32:
            case OpKind.Immediate8to64:
            case OpKind.Immediate32to64:
                kind = OperandKind.Imm;
                if (insn.GetOpKind(i) == OpKind.Immediate8_2nd)
                {
                    d.Imm2 = insn.Immediate8_2nd;
                }
                else
                {
                    d.Imm = insn.GetImmediate(i);
                }
                break;
            case OpKind.NearBranch16:
            case OpKind.NearBranch32:
            case OpKind.NearBranch64:
                kind = OperandKind.Imm;
                d.Rel = (long)(insn.NearBranchTarget - insn.NextIP);
                break;
            case OpKind.FarBranch16:
            case OpKind.FarBranch32:
                kind = OperandKind.Imm;
                d.Imm = insn.GetOpKind(i) == OpKind.FarBranch16 ? insn.FarBranch16 : insn.FarBranch32;
                d.Imm2 = insn.FarBranchSelector;
                break;
            default:
                kind = OperandKind.Other;
                break;
        }
        switch (i)
        {
            case 0: d.K0 = kind; d.R0 = reg; break;
            case 1: d.K1 = kind; d.R1 = reg; break;
            default: d.K2 = kind; d.R2 = reg; break;
        }
    }

    private static void SetMemory(DecodedOp d, in Instruction insn)
    {
        d.Seg = (byte)(insn.MemorySegment - Register.ES);
        d.Scale = (byte)(insn.MemoryIndexScale switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 });
        var b = insn.MemoryBase;
        d.Addr32 = false;
        if (Addressing16.Uses(in insn))
        {
            Addressing16.Digest(d, in insn);
            return;
        }
        if (b == Register.RIP || b == Register.EIP)
        {
            d.Base = DecodedOp.RipReg;
            d.Disp = (long)(insn.MemoryDisplacement64 - insn.NextIP);
            d.Addr32 = b == Register.EIP;
        }
        else
        {
            d.Base = b == Register.None ? DecodedOp.NoReg : GprIndex(b);
            d.Disp = (long)insn.MemoryDisplacement64;
            var addrReg = b != Register.None ? b : insn.MemoryIndex;
            if (addrReg != Register.None)
            {
                d.Addr32 = addrReg.IsGPR32();
            }
            else
            {
                d.Addr32 = insn.MemoryDisplSize == 4;
            }
            if (d.Addr32)
            {
                d.Disp = (long)(uint)d.Disp;
            }
        }
        d.AddrMask = d.Addr32 ? 0xFFFF_FFFFUL : ulong.MaxValue;
        var idx = insn.MemoryIndex;
        d.Index = idx == Register.None ? DecodedOp.NoReg : idx.IsXMM() ? DecodedOp.NoReg : GprIndex(idx);
    }

    internal static byte GprIndex(Register r)
    {
        if (r >= Register.AL && r <= Register.R15L)
        {
            return r switch
            {
                >= Register.AL and <= Register.BL => (byte)(r - Register.AL),
                >= Register.AH and <= Register.BH => (byte)(16 + (r - Register.AH)),
                >= Register.SPL and <= Register.DIL => (byte)(4 + (r - Register.SPL)),
                _ => (byte)(8 + (r - Register.R8L)),
            };
        }
        if (r >= Register.AX && r <= Register.R15W)
        {
            return (byte)(r - Register.AX);
        }
        if (r >= Register.EAX && r <= Register.R15D)
        {
            return (byte)(r - Register.EAX);
        }
        return (byte)(r - Register.RAX);
    }

    private static int OperandSizeOf(in Instruction insn, int i)
    {
        switch (insn.GetOpKind(i))
        {
            case OpKind.Register:
                return insn.GetOpRegister(i).GetSize();
            case OpKind.Memory:
                return insn.MemorySize.GetSize();
            case OpKind.Immediate8: return 1;
            case OpKind.Immediate16: return 2;
            case OpKind.Immediate32: return 4;
            default: return 8;
        }
    }

    private static int OperandSize(in Instruction insn)
    {
        if (insn.OpCount == 0)
        {
            return 0;
        }
        switch (insn.GetOpKind(0))
        {
            case OpKind.Register:
                return insn.GetOpRegister(0).GetSize();
            case OpKind.Memory:
                return insn.MemorySize.GetSize();
            default:
                if (insn.OpCount > 1 && insn.GetOpKind(1) == OpKind.Register)
                {
                    return insn.GetOpRegister(1).GetSize();
                }
                return insn.MemorySize.GetSize();
        }
    }

    private static int ConditionIndex(ConditionCode cc) => cc switch
    {
        ConditionCode.o => 0,
        ConditionCode.no => 1,
        ConditionCode.b => 2,
        ConditionCode.ae => 3,
        ConditionCode.e => 4,
        ConditionCode.ne => 5,
        ConditionCode.be => 6,
        ConditionCode.a => 7,
        ConditionCode.s => 8,
        ConditionCode.ns => 9,
        ConditionCode.p => 10,
        ConditionCode.np => 11,
        ConditionCode.l => 12,
        ConditionCode.ge => 13,
        ConditionCode.le => 14,
        ConditionCode.g => 15,
        _ => 0,
    };

    private static int StackOperandSize(in Instruction insn, int bitness)
    {
        // push/pop/call/ret operand size comes from the memory size Iced reports for the stack slot
        var ms = insn.StackPointerIncrement;
        return ms == 0 ? bitness / 8 : Math.Abs(ms);
    }

    private static Handler Classify(DecodedOp d, in Instruction insn)
    {
        var m = insn.Mnemonic;
        bool hasXmm = d.K0 == OperandKind.Xmm || d.K1 == OperandKind.Xmm;
        switch (m)
        {
            case Mnemonic.Nop:
            case Mnemonic.Pause:
            case Mnemonic.Lfence:
            case Mnemonic.Mfence:
            case Mnemonic.Sfence:
            case Mnemonic.Prefetchnta:
            case Mnemonic.Prefetcht0:
            case Mnemonic.Prefetcht1:
            case Mnemonic.Prefetcht2:
            case Mnemonic.Prefetchw:
            case Mnemonic.Clflush:
            case Mnemonic.Endbr64:
            case Mnemonic.Endbr32:
                return Handler.Nop;
            case Mnemonic.Mov:
                if (d.K0 == OperandKind.Other && insn.Op0Register.IsSegmentRegister())
                {
                    return Handler.MovSreg;
                }
                if (d.K1 == OperandKind.Other && insn.Op1Register.IsSegmentRegister())
                {
                    return Handler.MovFromSreg;
                }
                if (d.K0 == OperandKind.Other && insn.Op0Register.IsCR())
                {
                    d.Aux = (byte)(insn.Op0Register - Register.CR0);
                    return Handler.MovToCr;
                }
                if (d.K1 == OperandKind.Other && insn.Op1Register.IsCR())
                {
                    d.Aux = (byte)(insn.Op1Register - Register.CR0);
                    return Handler.MovFromCr;
                }
                if (d.K0 == OperandKind.Other && insn.Op0Register.IsDR())
                {
                    d.Aux = (byte)(insn.Op0Register - Register.DR0);
                    return Handler.MovToDr;
                }
                if (d.K1 == OperandKind.Other && insn.Op1Register.IsDR())
                {
                    d.Aux = (byte)(insn.Op1Register - Register.DR0);
                    return Handler.MovFromDr;
                }
                if (insn.Op0Kind == OpKind.Memory && insn.Op1Kind == OpKind.Register || insn.Op1Kind == OpKind.Memory)
                {
                    // moffs forms use MemoryDisplacement64 with no base: handled by SetMemory.
                }
                return d.K0 is OperandKind.Reg or OperandKind.Mem && d.K1 is OperandKind.Reg or OperandKind.Mem or OperandKind.Imm ? Handler.Mov : Handler.Unimplemented;
            case Mnemonic.Movzx: return Handler.Movzx;
            case Mnemonic.Movsx:
            case Mnemonic.Movsxd: return Handler.Movsx;
            case Mnemonic.Lea: return Handler.Lea;
            case Mnemonic.Xchg: return Handler.Xchg;
            case Mnemonic.Cmpxchg: return Handler.Cmpxchg;
            case Mnemonic.Cmpxchg16b: return Handler.Cmpxchg16b;
            case Mnemonic.Cmpxchg8b: return Handler.Cmpxchg8b;
            case Mnemonic.Xadd: return Handler.Xadd;
            case Mnemonic.Bswap: return Handler.Bswap;
            case Mnemonic.Cbw: d.Size = 2; return Handler.Cbw;
            case Mnemonic.Cwde: d.Size = 4; return Handler.Cbw;
            case Mnemonic.Cdqe: d.Size = 8; return Handler.Cbw;
            case Mnemonic.Cwd: d.Size = 2; return Handler.Cwd;
            case Mnemonic.Cdq: d.Size = 4; return Handler.Cwd;
            case Mnemonic.Cqo: d.Size = 8; return Handler.Cwd;
            case Mnemonic.Lahf: return Handler.Lahf;
            case Mnemonic.Sahf: return Handler.Sahf;
            case Mnemonic.Add: return Handler.Add;
            case Mnemonic.Or: return Handler.Or;
            case Mnemonic.Adc: return Handler.Adc;
            case Mnemonic.Sbb: return Handler.Sbb;
            case Mnemonic.And: return Handler.And;
            case Mnemonic.Sub: return Handler.Sub;
            case Mnemonic.Xor: return Handler.Xor;
            case Mnemonic.Cmp: return Handler.Cmp;
            case Mnemonic.Test: return Handler.Test;
            case Mnemonic.Inc: return Handler.Inc;
            case Mnemonic.Dec: return Handler.Dec;
            case Mnemonic.Neg: return Handler.Neg;
            case Mnemonic.Not: return Handler.Not;
            case Mnemonic.Shl:
            case Mnemonic.Sal: return ShiftCount(d, insn, Handler.Shl);
            case Mnemonic.Shr: return ShiftCount(d, insn, Handler.Shr);
            case Mnemonic.Sar: return ShiftCount(d, insn, Handler.Sar);
            case Mnemonic.Rol: return ShiftCount(d, insn, Handler.Rol);
            case Mnemonic.Ror: return ShiftCount(d, insn, Handler.Ror);
            case Mnemonic.Rcl: return ShiftCount(d, insn, Handler.Rcl);
            case Mnemonic.Rcr: return ShiftCount(d, insn, Handler.Rcr);
            case Mnemonic.Shld: d.Aux = (byte)(insn.Op2Kind == OpKind.Register ? 1 : 0); d.Imm &= 0xFF; return Handler.Shld;
            case Mnemonic.Shrd: d.Aux = (byte)(insn.Op2Kind == OpKind.Register ? 1 : 0); d.Imm &= 0xFF; return Handler.Shrd;
            case Mnemonic.Mul: return Handler.Mul;
            case Mnemonic.Imul: return insn.OpCount == 1 ? Handler.Imul1 : Handler.Imul2;
            case Mnemonic.Div: return Handler.Div;
            case Mnemonic.Idiv: return Handler.Idiv;
            case Mnemonic.Bt: return Handler.Bt;
            case Mnemonic.Bts: return Handler.Bts;
            case Mnemonic.Btr: return Handler.Btr;
            case Mnemonic.Btc: return Handler.Btc;
            case Mnemonic.Bsf: return Handler.Bsf;
            case Mnemonic.Bsr: return Handler.Bsr;
            case Mnemonic.Tzcnt: return Handler.Tzcnt;
            case Mnemonic.Lzcnt: return Handler.Lzcnt;
            case Mnemonic.Popcnt: return Handler.Popcnt;
            case Mnemonic.Andn: return Handler.Andn;
            case Mnemonic.Bextr: return insn.Op2Kind == OpKind.Register ? Handler.Bextr : Handler.Unimplemented; // not the TBM imm32 form
            case Mnemonic.Blsi: return Handler.Blsi;
            case Mnemonic.Blsmsk: return Handler.Blsmsk;
            case Mnemonic.Blsr: return Handler.Blsr;
            case Mnemonic.Clc: return Handler.Clc;
            case Mnemonic.Stc: return Handler.Stc;
            case Mnemonic.Cmc: return Handler.Cmc;
            case Mnemonic.Cld: return Handler.Cld;
            case Mnemonic.Std: return Handler.Std;
            case Mnemonic.Jmp:
                if (insn.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64)
                {
                    return Handler.Jmp;
                }
                if (insn.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32)
                {
                    d.Size = insn.Op0Kind == OpKind.FarBranch16 ? 2 : 4;
                    return Handler.JmpFar;
                }
                if (insn.Op0Kind == OpKind.Memory && insn.MemorySize is MemorySize.SegPtr16 or MemorySize.SegPtr32 or MemorySize.SegPtr64)
                {
                    d.Size = insn.MemorySize switch { MemorySize.SegPtr16 => 2, MemorySize.SegPtr32 => 4, _ => 8 };
                    return Handler.JmpFarIndirect;
                }
                return Handler.JmpIndirect;
            case Mnemonic.Call:
                if (insn.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64)
                {
                    d.Size = StackOperandSize(insn, d.Insn.CodeSize == CodeSize.Code64 ? 64 : 32);
                    return Handler.Call;
                }
                if (insn.Op0Kind == OpKind.Memory && insn.MemorySize is MemorySize.SegPtr16 or MemorySize.SegPtr32 or MemorySize.SegPtr64)
                {
                    d.Size = insn.MemorySize switch { MemorySize.SegPtr16 => 2, MemorySize.SegPtr32 => 4, _ => 8 };
                    return Handler.CallFar;
                }
                if (insn.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32)
                {
                    d.Size = insn.Op0Kind == OpKind.FarBranch16 ? 2 : 4;
                    return Handler.CallFar;
                }
                d.Size1 = d.Size;
                d.Size = StackOperandSize(insn, 64);
                return Handler.CallIndirect;
            case Mnemonic.Ret:
                d.Size = insn.Code switch
                {
                    Code.Retnw or Code.Retnw_imm16 => 2,
                    Code.Retnd or Code.Retnd_imm16 => 4,
                    _ => 8,
                };
                d.Imm = insn.OpCount == 1 ? insn.Immediate16 : 0UL;
                return Handler.Ret;
            case Mnemonic.Retf:
                d.Size = insn.Code switch
                {
                    Code.Retfq or Code.Retfq_imm16 => 8,
                    Code.Retfw or Code.Retfw_imm16 => 2,
                    _ => 4,
                };
                d.Imm = insn.OpCount == 1 ? insn.Immediate16 : 0UL;
                return Handler.RetFar;
            case Mnemonic.Jrcxz:
            case Mnemonic.Jecxz:
            case Mnemonic.Jcxz:
                d.Aux = (byte)(m == Mnemonic.Jrcxz ? 8 : m == Mnemonic.Jecxz ? 4 : 2);
                return Handler.Jrcxz;
            case Mnemonic.Loop: d.Aux = (byte)AddrSize(insn); return Handler.Loop;
            case Mnemonic.Loope: d.Aux = (byte)AddrSize(insn); return Handler.Loope;
            case Mnemonic.Loopne: d.Aux = (byte)AddrSize(insn); return Handler.Loopne;
            case Mnemonic.Push:
                if (d.K0 == OperandKind.Other && insn.Op0Register.IsSegmentRegister())
                {
                    d.Aux = (byte)(insn.Op0Register - Register.ES);
                    d.Size = StackOperandSize(insn, 64);
                    return Handler.PushSreg;
                }
                d.Size = StackOperandSize(insn, 64);
                return Handler.Push;
            case Mnemonic.Pop:
                if (d.K0 == OperandKind.Other && insn.Op0Register.IsSegmentRegister())
                {
                    d.Aux = (byte)(insn.Op0Register - Register.ES);
                    d.Size = StackOperandSize(insn, 64);
                    return Handler.PopSreg;
                }
                d.Size = StackOperandSize(insn, 64);
                return Handler.Pop;
            case Mnemonic.Pushf:
            case Mnemonic.Pushfd:
            case Mnemonic.Pushfq:
                d.Size = StackOperandSize(insn, 64);
                return Handler.Pushf;
            case Mnemonic.Popf:
            case Mnemonic.Popfd:
            case Mnemonic.Popfq:
                d.Size = StackOperandSize(insn, 64);
                return Handler.Popf;
            case Mnemonic.Leave:
                d.Size = insn.Code switch { Code.Leavew => 2, Code.Leaved => 4, _ => 8 };
                return Handler.Leave;
            case Mnemonic.Enter:
                d.Size = insn.Code switch { Code.Enterw_imm16_imm8 => 2, Code.Enterd_imm16_imm8 => 4, _ => 8 };
                d.Imm = insn.Immediate16;
                d.Imm2 = insn.Immediate8_2nd;
                return Handler.Enter;
            case Mnemonic.Movsb:
            case Mnemonic.Movsw:
            case Mnemonic.Movsq:
                return StringOp(d, insn, Handler.Movs);
            case Mnemonic.Movsd when !hasXmm:
                return StringOp(d, insn, Handler.Movs);
            case Mnemonic.Stosb:
            case Mnemonic.Stosw:
            case Mnemonic.Stosd:
            case Mnemonic.Stosq:
                return StringOp(d, insn, Handler.Stos);
            case Mnemonic.Lodsb:
            case Mnemonic.Lodsw:
            case Mnemonic.Lodsd:
            case Mnemonic.Lodsq:
                return StringOp(d, insn, Handler.Lods);
            case Mnemonic.Cmpsb:
            case Mnemonic.Cmpsw:
            case Mnemonic.Cmpsq:
                return StringOp(d, insn, Handler.Cmps);
            case Mnemonic.Cmpsd when !hasXmm:
                return StringOp(d, insn, Handler.Cmps);
            case Mnemonic.Scasb:
            case Mnemonic.Scasw:
            case Mnemonic.Scasd:
            case Mnemonic.Scasq:
                return StringOp(d, insn, Handler.Scas);
            // system
            case Mnemonic.In:
                d.Size = insn.Op0Register.GetSize();
                d.Aux = (byte)(insn.Op1Kind == OpKind.Register ? 1 : 0);
                return Handler.In;
            case Mnemonic.Out:
                d.Size = insn.Op1Register.GetSize();
                d.Aux = (byte)(insn.Op0Kind == OpKind.Register ? 1 : 0);
                return Handler.Out;
            case Mnemonic.Cli: return Handler.Cli;
            case Mnemonic.Sti: return Handler.Sti;
            case Mnemonic.Stac: return Handler.Stac;
            case Mnemonic.Clac: return Handler.Clac;
            case Mnemonic.Hlt: return Handler.Hlt;
            case Mnemonic.Lgdt: return Handler.Lgdt;
            case Mnemonic.Lidt: return Handler.Lidt;
            case Mnemonic.Sgdt: return Handler.Sgdt;
            case Mnemonic.Sidt: return Handler.Sidt;
            case Mnemonic.Ltr: return Handler.Ltr;
            case Mnemonic.Lldt: return Handler.Lldt;
            case Mnemonic.Str: return Handler.Str;
            case Mnemonic.Sldt: return Handler.Sldt;
            case Mnemonic.Rdmsr: return Handler.Rdmsr;
            case Mnemonic.Wrmsr: return Handler.Wrmsr;
            case Mnemonic.Rdtsc: return Handler.Rdtsc;
            case Mnemonic.Rdtscp: return Handler.Rdtscp;
            case Mnemonic.Cpuid: return Handler.Cpuid;
            case Mnemonic.Iret:
            case Mnemonic.Iretd:
            case Mnemonic.Iretq:
                d.Size = m == Mnemonic.Iretq ? 8 : m == Mnemonic.Iretd ? 4 : 2;
                return Handler.Iret;
            case Mnemonic.Int: d.Imm &= 0xFF; return Handler.Int;
            case Mnemonic.Int3: return Handler.Int3;
            case Mnemonic.Into: return Handler.Into;
            case Mnemonic.Int1: return Handler.Int1;
            case Mnemonic.Ud2:
            case Mnemonic.Ud0:
            case Mnemonic.Ud1: return Handler.Ud2;
            case Mnemonic.Invlpg: return Handler.Invlpg;
            case Mnemonic.Invpcid: return Handler.Invpcid;
            case Mnemonic.Xsetbv: return Handler.Xsetbv;
            case Mnemonic.Xgetbv: return Handler.Xgetbv;
            case Mnemonic.Fninit: return Handler.Fninit;
            case Mnemonic.Finit: d.Aux = 1; return Handler.Fninit;
            case Mnemonic.Wait: return Handler.Fwait;
            case Mnemonic.Fnstenv: return Handler.Fnstenv;
            case Mnemonic.Fstenv: d.Aux = 1; return Handler.Fnstenv;
            case Mnemonic.Fldenv: return Handler.Fldenv;
            case Mnemonic.Fnsave: return Handler.Fnsave;
            case Mnemonic.Fsave: d.Aux = 1; return Handler.Fnsave;
            case Mnemonic.Frstor: return Handler.Frstor;
            case Mnemonic.Fnstsw: return Handler.Fnstsw;
            case Mnemonic.Fstsw: d.Aux = 1; return Handler.Fnstsw;
            case Mnemonic.Fnclex: return Handler.Fnclex;
            case Mnemonic.Fclex: d.Aux = 1; return Handler.Fnclex;
            case Mnemonic.Xsave: return Handler.Xsave;
            case Mnemonic.Xsave64: d.Aux = 1; return Handler.Xsave;
            case Mnemonic.Xsaveopt: return Handler.Xsaveopt;
            case Mnemonic.Xsaveopt64: d.Aux = 1; return Handler.Xsaveopt;
            case Mnemonic.Xsavec: return Handler.Xsavec;
            case Mnemonic.Xsavec64: d.Aux = 1; return Handler.Xsavec;
            case Mnemonic.Xrstor: return Handler.Xrstor;
            case Mnemonic.Xrstor64: d.Aux = 1; return Handler.Xrstor;
            case Mnemonic.Smsw: return Handler.Smsw;
            case Mnemonic.Movnti: return Handler.Mov;
            case Mnemonic.Lds: d.Aux = 3; return Handler.LoadFarPointer;
            case Mnemonic.Les: d.Aux = 0; return Handler.LoadFarPointer;
            case Mnemonic.Lfs: d.Aux = 4; return Handler.LoadFarPointer;
            case Mnemonic.Lgs: d.Aux = 5; return Handler.LoadFarPointer;
            case Mnemonic.Lss: d.Aux = 2; return Handler.LoadFarPointer;
            case Mnemonic.Xlatb: d.Index = DecodedOp.NoReg; return Handler.Xlat;     // Iced names AL as the index
            case Mnemonic.Lmsw: return Handler.Lmsw;
            case Mnemonic.Rdpmc: return Handler.Rdpmc;
            case Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd: return StringIoOp(d, in insn, Handler.Ins);
            case Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd: return StringIoOp(d, in insn, Handler.Outs);
            case Mnemonic.Pusha: d.Size = 2; return Handler.Pusha;
            case Mnemonic.Pushad: d.Size = 4; return Handler.Pusha;
            case Mnemonic.Popa: d.Size = 2; return Handler.Popa;
            case Mnemonic.Popad: d.Size = 4; return Handler.Popa;
            case Mnemonic.Daa: return Handler.Daa;
            case Mnemonic.Das: return Handler.Das;
            case Mnemonic.Aaa: return Handler.Aaa;
            case Mnemonic.Aas: return Handler.Aas;
            case Mnemonic.Aam: return Handler.Aam;
            case Mnemonic.Aad: return Handler.Aad;
            case Mnemonic.Salc: return Handler.Salc;
            case Mnemonic.Bound: d.Size = insn.Op0Register.GetSize(); return Handler.Bound;
            case Mnemonic.Arpl: return Handler.Arpl;
            case Mnemonic.Lar: return Handler.Lar;
            case Mnemonic.Lsl: return Handler.Lsl;
            case Mnemonic.Verr: return Handler.Verr;
            case Mnemonic.Verw: return Handler.Verw;
            case Mnemonic.Reservednop:                                                 // 0F 18-1F hint space
            case Mnemonic.Prefetch: return Handler.Nop;                                // 0F 0D /0 and /2-7: a NOP
            case Mnemonic.Fnstcw: return Handler.Fnstcw;
            case Mnemonic.Fldcw: return Handler.Fldcw;
            case Mnemonic.Fxsave: return Handler.Fxsave;
            case Mnemonic.Fxsave64: d.Aux = 1; return Handler.Fxsave;
            case Mnemonic.Fxrstor: return Handler.Fxrstor;
            case Mnemonic.Fxrstor64: d.Aux = 1; return Handler.Fxrstor;
            case Mnemonic.Ldmxcsr: return Handler.Ldmxcsr;
            case Mnemonic.Stmxcsr: return Handler.Stmxcsr;
            case Mnemonic.Swapgs: return Handler.Swapgs;
            case Mnemonic.Syscall: return Handler.Syscall;
            case Mnemonic.Sysretq:
            case Mnemonic.Sysret: return Handler.Sysret;
            case Mnemonic.Sysenter: return Handler.Sysenter;
            case Mnemonic.Sysexitq: d.Aux = 1; return Handler.Sysexit;
            case Mnemonic.Sysexit: return Handler.Sysexit;
            case Mnemonic.Vmcall: return Handler.Vmcall;
            case Mnemonic.Vmmcall: return Handler.Vmmcall;
            case Mnemonic.Wbinvd:
            case Mnemonic.Invd: return Handler.Wbinvd;
            case Mnemonic.Clts: return Handler.Clts;
            case Mnemonic.Rdfsbase: d.Aux = 4; return Handler.Rdfsbase;
            case Mnemonic.Rdgsbase: d.Aux = 5; return Handler.Rdfsbase;
            case Mnemonic.Wrfsbase: d.Aux = 4; return Handler.Wrfsbase;
            case Mnemonic.Wrgsbase: d.Aux = 5; return Handler.Wrfsbase;
            default:
                break;
        }
        if (insn.ConditionCode != ConditionCode.None)
        {
            if (m >= Mnemonic.Jo && m <= Mnemonic.Js || IsJcc(m))
            {
                return Handler.Jcc;
            }
            if (IsSetcc(m))
            {
                return Handler.Setcc;
            }
            if (IsCmovcc(m))
            {
                return Handler.Cmovcc;
            }
        }
        if (IsX87Escape(in insn))
        {
            return Handler.X87Arithmetic; // the x87 escapes the core lacks: #NM under CR0.EM/TS, else #UD with a diagnostic
        }
        return SseClassifier.Classify(d, in insn);
    }

    /// <summary>An x87 instruction: legacy map, first opcode byte D8-DF (Iced keeps "D9 E8" as one two-byte opcode).</summary>
    private static bool IsX87Escape(in Instruction insn)
    {
        if (insn.Encoding != EncodingKind.Legacy) return false;
        var oc = insn.Code.ToOpCode();
        uint first = oc.OpCodeLength == 2 ? oc.OpCode >> 8 : oc.OpCode;
        return oc.Table == OpCodeTableKind.Normal && first is >= 0xD8 and <= 0xDF;
    }

    private static int AddrSize(in Instruction insn)
    {
        string name = insn.Code.ToString();
        return name.EndsWith("RCX", StringComparison.Ordinal) ? 8 : name.EndsWith("ECX", StringComparison.Ordinal) ? 4 : 2;
    }

    private static bool IsJcc(Mnemonic m) => m is Mnemonic.Jo or Mnemonic.Jno or Mnemonic.Jb or Mnemonic.Jae or Mnemonic.Je
        or Mnemonic.Jne or Mnemonic.Jbe or Mnemonic.Ja or Mnemonic.Js or Mnemonic.Jns or Mnemonic.Jp or Mnemonic.Jnp
        or Mnemonic.Jl or Mnemonic.Jge or Mnemonic.Jle or Mnemonic.Jg;

    private static bool IsSetcc(Mnemonic m) => m is Mnemonic.Seto or Mnemonic.Setno or Mnemonic.Setb or Mnemonic.Setae
        or Mnemonic.Sete or Mnemonic.Setne or Mnemonic.Setbe or Mnemonic.Seta or Mnemonic.Sets or Mnemonic.Setns
        or Mnemonic.Setp or Mnemonic.Setnp or Mnemonic.Setl or Mnemonic.Setge or Mnemonic.Setle or Mnemonic.Setg;

    private static bool IsCmovcc(Mnemonic m) => m is Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovb or Mnemonic.Cmovae
        or Mnemonic.Cmove or Mnemonic.Cmovne or Mnemonic.Cmovbe or Mnemonic.Cmova or Mnemonic.Cmovs or Mnemonic.Cmovns
        or Mnemonic.Cmovp or Mnemonic.Cmovnp or Mnemonic.Cmovl or Mnemonic.Cmovge or Mnemonic.Cmovle or Mnemonic.Cmovg;

    private static Handler ShiftCount(DecodedOp d, in Instruction insn, Handler h)
    {
        // Aux = 1: count in CL; else Imm holds the count (1 for the D0/D1 forms)
        if (insn.OpCount == 2 && insn.Op1Kind == OpKind.Register)
        {
            d.Aux = 1;
        }
        else if (insn.OpCount == 1)
        {
            d.Imm = 1;
        }
        d.Imm &= 0xFF;
        return h;
    }

    /// <summary>INS/OUTS: element size from the memory operand, address size from the index
    /// register Iced names (ES:rDI for INS, seg:rSI for OUTS).</summary>
    private static Handler StringIoOp(DecodedOp d, in Instruction insn, Handler h)
    {
        var k = h == Handler.Ins ? insn.Op0Kind : insn.Op1Kind;
        d.Size = insn.MemorySize.GetSize();
        d.Aux = (byte)(k switch
        {
            OpKind.MemorySegRSI or OpKind.MemoryESRDI => 8,
            OpKind.MemorySegESI or OpKind.MemoryESEDI => 4,
            _ => 2,
        });
        d.Seg = (byte)(insn.MemorySegment - Register.ES);
        return h;
    }

    private static Handler StringOp(DecodedOp d, in Instruction insn, Handler h)
    {
        d.Size = insn.MemorySize.GetSize();
        // address size: the register Iced names for the memory operand
        var k = insn.Op0Kind == OpKind.Register ? insn.Op1Kind : insn.Op0Kind;
        d.Aux = (byte)(k switch
        {
            OpKind.MemorySegRSI or OpKind.MemoryESRDI or OpKind.MemorySegRDI => 8,
            OpKind.MemorySegESI or OpKind.MemoryESEDI or OpKind.MemorySegEDI => 4,
            _ => 2,
        });
        d.Seg = (byte)(insn.MemorySegment - Register.ES);
        return h;
    }
}
