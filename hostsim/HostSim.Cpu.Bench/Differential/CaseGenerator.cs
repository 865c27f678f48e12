using Iced.Intel;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>Builds random differential cases: every enumerated instruction form, plus control-flow and string templates.</summary>
internal sealed partial class CaseGenerator(DifferentialRig rig)
{
    private const ulong ArithAndDf = Flag.Arith | Flag.DF;

    private readonly ByteListWriter _writer = new();

    public DifferentialCase Next(Random r)
    {
        for (int attempt = 0; ; attempt++)
        {
            DifferentialCase? c = r.Next(10) switch
            {
                0 => Template(r),
                _ => SingleInstruction(r, InstructionForms.All[r.Next(InstructionForms.All.Length)]),
            };
            if (c != null)
            {
                return c;
            }
        }
    }

    /// <summary>A case for one specific form (used by the tests to cover every form deterministically).</summary>
    public DifferentialCase? ForCode(Random r, Code code)
    {
        for (int i = 0; i < 20; i++)
        {
            var c = SingleInstruction(r, code);
            if (c != null) return c;
        }
        return null;
    }

    private MachineState RandomState(Random r)
    {
        var s = new MachineState();
        for (int i = 0; i < 16; i++) s.Gpr[i] = Values.Next(r);
        s.Gpr[4] = rig.StackTop - (ulong)(8 * r.Next(0, 16));
        s.Rflags = ((ulong)r.NextInt64() & Flag.Arith) | Flag.IF | Flag.Reserved1 | (r.Next(8) == 0 ? Flag.DF : 0);
        for (int i = 0; i < 16; i++)
        {
            s.XmmLo[i] = Values.NextXmm(r);
            s.XmmHi[i] = Values.NextXmm(r);
        }
        s.Data = new byte[DifferentialRig.DataSize];
        FillRandom(r, s.Data);
        for (int i = 512; i < s.Data.Length - 512; i += 8 * r.Next(1, 4))
        {
            // edge values where operands usually land (random bytes elsewhere)
            BitConverter.TryWriteBytes(s.Data.AsSpan(i), r.Next(2) == 0 ? Values.Next(r) : Values.NextXmm(r));
        }
        s.Stack = new byte[DifferentialRig.StackSize];
        FillRandom(r, s.Stack);
        return s;
    }

    private static void FillRandom(Random r, byte[] buffer)
    {
        // xorshift64 seeded from the case RNG: Random.NextBytes on a seeded Random costs one sample per byte
        ulong x = (ulong)r.NextInt64() | 1;
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer.AsSpan());
        for (int i = 0; i < words.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            words[i] = x;
        }
    }

    private static readonly int[] Pool = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    private static Register Gpr(int index, int size)
    {
        return size switch
        {
            1 => index < 4 ? Register.AL + index : index < 8 ? Register.SPL + (index - 4) : Register.R8L + (index - 8),
            2 => Register.AX + index,
            4 => Register.EAX + index,
            _ => Register.RAX + index,
        };
    }

    private static int SizeOf(OpCodeOperandKind k) => k switch
    {
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.al or OpCodeOperandKind.cl => 1,
        OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_rm or OpCodeOperandKind.r16_opcode or OpCodeOperandKind.ax => 2,
        OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.eax => 4,
        _ => 8,
    };

    private sealed class Build
    {
        public int MemOperand = -1;
        public ulong MemAddress;
        public int[] RegIndex = [-1, -1, -1];
        public int BaseReg = -1, IndexReg = -1;
    }

    private DifferentialCase? SingleInstruction(Random r, Code code)
    {
        var op = code.ToOpCode();
        var m = code.Mnemonic();
        var s = RandomState(r);
        var ins = default(Instruction);
        ins.Code = code;
        var b = new Build();
        bool sse = InstructionForms.Sse.Contains(m);
        bool isDiv = m is Mnemonic.Div or Mnemonic.Idiv or Mnemonic.Mul or Mnemonic.Imul;
        bool isBt = m is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc;
        int memSize = Math.Max(1, op.MemorySize.GetSize());
        bool highByteUsed = false, rexNeeded = false;
        for (int i = 0; i < op.OpCount; i++)
        {
            var k = op.GetOpKind(i);
            switch (k)
            {
                case OpCodeOperandKind.al: ins.SetOpKind(i, OpKind.Register); ins.SetOpRegister(i, Register.AL); break;
                case OpCodeOperandKind.cl: ins.SetOpKind(i, OpKind.Register); ins.SetOpRegister(i, Register.CL); break;
                case OpCodeOperandKind.ax: ins.SetOpKind(i, OpKind.Register); ins.SetOpRegister(i, Register.AX); break;
                case OpCodeOperandKind.eax: ins.SetOpKind(i, OpKind.Register); ins.SetOpRegister(i, Register.EAX); break;
                case OpCodeOperandKind.rax: ins.SetOpKind(i, OpKind.Register); ins.SetOpRegister(i, Register.RAX); break;
                case OpCodeOperandKind.xmm_reg:
                case OpCodeOperandKind.xmm_rm:
                    ins.SetOpKind(i, OpKind.Register);
                    ins.SetOpRegister(i, Register.XMM0 + r.Next(16));
                    break;
                case OpCodeOperandKind.xmm_or_mem:
                    if (r.Next(2) == 0)
                    {
                        ins.SetOpKind(i, OpKind.Register);
                        ins.SetOpRegister(i, Register.XMM0 + r.Next(16));
                    }
                    else
                    {
                        b.MemOperand = i;
                    }
                    break;
                case OpCodeOperandKind.mem:
                    b.MemOperand = i;
                    break;
                case OpCodeOperandKind.r8_or_mem:
                case OpCodeOperandKind.r16_or_mem:
                case OpCodeOperandKind.r32_or_mem:
                case OpCodeOperandKind.r64_or_mem:
                    if (r.Next(2) == 0 && m != Mnemonic.Lea)
                    {
                        b.MemOperand = i;
                        break;
                    }
                    goto case OpCodeOperandKind.r64_reg;
                case OpCodeOperandKind.r8_reg:
                case OpCodeOperandKind.r8_opcode:
                case OpCodeOperandKind.r16_reg:
                case OpCodeOperandKind.r16_rm:
                case OpCodeOperandKind.r16_opcode:
                case OpCodeOperandKind.r32_reg:
                case OpCodeOperandKind.r32_rm:
                case OpCodeOperandKind.r32_opcode:
                case OpCodeOperandKind.r64_reg:
                case OpCodeOperandKind.r64_rm:
                case OpCodeOperandKind.r64_opcode:
                    {
                        int size = SizeOf(k);
                        int idx = Pool[r.Next(Pool.Length)];
                        Register reg;
                        if (size == 1 && idx < 8 && idx >= 4 && r.Next(2) == 0)
                        {
                            reg = Register.AH + (idx - 4); // AH/CH/DH/BH are 4..7 in the high-byte encoding
                            idx = 16 + (idx - 4);
                            highByteUsed = true;
                        }
                        else
                        {
                            reg = Gpr(idx, size);
                            if (size == 1 && idx >= 4 || idx >= 8) rexNeeded = true;
                        }
                        ins.SetOpKind(i, OpKind.Register);
                        ins.SetOpRegister(i, reg);
                        b.RegIndex[i] = idx;
                        break;
                    }
                case OpCodeOperandKind.imm8_const_1:
                    ins.SetOpKind(i, OpKind.Immediate8);
                    ins.SetImmediate(i, 1);
                    break;
                case OpCodeOperandKind.imm8:
                    if (m == Mnemonic.Enter && i == 1)
                    {
                        ins.SetOpKind(i, OpKind.Immediate8_2nd);
                        ins.Immediate8_2nd = (byte)r.Next(0, 4);
                    }
                    else
                    {
                        ins.SetOpKind(i, OpKind.Immediate8);
                        ins.SetImmediate(i, r.Next(3) == 0 ? (ulong)r.Next(0, 70) : (byte)Values.Next(r));
                    }
                    break;
                case OpCodeOperandKind.imm8sex16:
                    ins.SetOpKind(i, OpKind.Immediate8to16); ins.SetImmediate(i, (long)(sbyte)Values.Next(r)); break;
                case OpCodeOperandKind.imm8sex32:
                    ins.SetOpKind(i, OpKind.Immediate8to32); ins.SetImmediate(i, (long)(sbyte)Values.Next(r)); break;
                case OpCodeOperandKind.imm8sex64:
                    ins.SetOpKind(i, OpKind.Immediate8to64); ins.SetImmediate(i, (long)(sbyte)Values.Next(r)); break;
                case OpCodeOperandKind.imm16:
                    ins.SetOpKind(i, OpKind.Immediate16);
                    ins.SetImmediate(i, m == Mnemonic.Enter ? (ulong)r.Next(0, 256) : (ushort)Values.Next(r));
                    break;
                case OpCodeOperandKind.imm32:
                    ins.SetOpKind(i, OpKind.Immediate32); ins.SetImmediate(i, (uint)Values.Next(r)); break;
                case OpCodeOperandKind.imm32sex64:
                    ins.SetOpKind(i, OpKind.Immediate32to64); ins.SetImmediate(i, (long)(int)Values.Next(r)); break;
                case OpCodeOperandKind.imm64:
                    ins.SetOpKind(i, OpKind.Immediate64); ins.SetImmediate(i, Values.Next(r)); break;
                default:
                    return null;
            }
        }
        if (highByteUsed && rexNeeded)
        {
            return null;
        }
        if (b.MemOperand >= 0)
        {
            // locked (and XCHG's implicitly locked) accesses stay naturally aligned: a split lock stalls the host for milliseconds
            int align = sse || memSize >= 16 || m == Mnemonic.Cmpxchg16b ? 16 : Lockable(m) ? Math.Min(memSize, 8) : 0;
            if (!BuildMemory(r, ref ins, b, s, memSize, align, isDiv, isBt, highByteUsed))
            {
                return null;
            }
        }
        if (m is Mnemonic.Enter or Mnemonic.Leave)
        {
            s.Gpr[5] = rig.StackTop + (ulong)(8 * r.Next(0, 32));
        }
        if (b.MemOperand >= 0 && r.Next(4) == 0 && b.MemOperand == 0 && Lockable(m))
        {
            ins.HasLockPrefix = true;
        }
        if (isBt && b.MemOperand >= 0 && op.GetOpKind(1) is not (OpCodeOperandKind.imm8))
        {
            // register bit offset with a memory operand addresses memory relative to the operand: keep it small
            int offReg = b.RegIndex[1];
            if (offReg < 0 || offReg == b.BaseReg || offReg == b.IndexReg) return null;
            s.Gpr[offReg] = (ulong)(long)r.Next(-256, 256);
        }
        byte[] bytes;
        try
        {
            _writer.Clear();
            var enc = Encoder.Create(64, _writer);
            if (!enc.TryEncode(ins, rig.CodeStart, out _, out _))
            {
                return null;
            }
            bytes = _writer.ToArray();
        }
        catch (Exception)
        {
            return null;
        }
        if (isDiv && !FixDivision(r, code, s, b, op))
        {
            return null;
        }
        var (flags, ignore) = Undefined(m, code, s, b, op, ins);
        return new DifferentialCase(code.ToString(), bytes, s, flags, ignore, code.ToString());
    }

    private static bool Lockable(Mnemonic m) => m is Mnemonic.Add or Mnemonic.Or or Mnemonic.Adc or Mnemonic.Sbb or Mnemonic.And
        or Mnemonic.Sub or Mnemonic.Xor or Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Neg or Mnemonic.Not or Mnemonic.Xchg
        or Mnemonic.Cmpxchg or Mnemonic.Xadd or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc or Mnemonic.Cmpxchg16b or Mnemonic.Cmpxchg8b;

    private bool BuildMemory(Random r, ref Instruction ins, Build b, MachineState s, int memSize, int align, bool avoidRaxRdx, bool isBt, bool highByteUsed)
    {
        if (align == 0) align = 1 << r.Next(0, 4);
        ulong target = rig.DataStart + 512 + (ulong)r.Next(0, DifferentialRig.DataSize - 1024);
        target &= ~(ulong)(align - 1);
        b.MemAddress = target;
        ins.SetOpKind(b.MemOperand, OpKind.Memory);
        int mode = r.Next(5);
        if (mode == 0)
        {
            ins.MemoryBase = Register.RIP;
            ins.MemoryDisplacement64 = target;
            ins.MemoryDisplSize = 8;
            return true;
        }
        var pool = Pool.Where(p => !(avoidRaxRdx && (p == 0 || p == 2)) && !(highByteUsed && p >= 8) && !(isBt && Array.IndexOf(b.RegIndex, p) >= 0)).ToArray();
        if (pool.Length < 2) return false;
        int baseReg = pool[r.Next(pool.Length)];
        long disp = r.Next(3) switch { 0 => 0, 1 => r.Next(-128, 128), _ => r.Next(-100000, 100000) };
        ulong indexPart = 0;
        if (mode >= 3)
        {
            int indexReg;
            do { indexReg = pool[r.Next(pool.Length)]; } while (indexReg == baseReg);
            int scale = 1 << r.Next(4);
            ulong iv = (ulong)r.Next(0, 64);
            s.Gpr[indexReg] = iv;
            indexPart = iv * (ulong)scale;
            ins.MemoryIndex = Register.RAX + indexReg;
            ins.MemoryIndexScale = scale;
            b.IndexReg = indexReg;
        }
        s.Gpr[baseReg] = target - indexPart - (ulong)disp;
        ins.MemoryBase = Register.RAX + baseReg;
        ins.MemoryDisplacement64 = (ulong)disp;
        ins.MemoryDisplSize = disp == 0 ? 0 : disp >= -128 && disp <= 127 ? 1 : 8;
        b.BaseReg = baseReg;
        return true;
    }

    private ulong ReadOperand(MachineState s, Build b, int operand, int size)
    {
        if (operand == b.MemOperand)
        {
            int off = (int)(b.MemAddress - rig.DataStart);
            ulong v = 0;
            for (int i = 0; i < size; i++) v |= (ulong)s.Data[off + i] << (8 * i);
            return v;
        }
        int idx = b.RegIndex[operand];
        ulong full = idx >= 16 ? s.Gpr[idx - 16] >> 8 : s.Gpr[idx];
        return size == 8 ? full : full & ((1UL << (size * 8)) - 1);
    }

    private void WriteOperand(MachineState s, Build b, int operand, int size, ulong v)
    {
        if (operand == b.MemOperand)
        {
            int off = (int)(b.MemAddress - rig.DataStart);
            for (int i = 0; i < size; i++) s.Data[off + i] = (byte)(v >> (8 * i));
            return;
        }
        int idx = b.RegIndex[operand];
        ulong mask = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        if (idx >= 16)
        {
            s.Gpr[idx - 16] = (s.Gpr[idx - 16] & ~(mask << 8)) | ((v & mask) << 8);
        }
        else
        {
            s.Gpr[idx] = (s.Gpr[idx] & ~mask) | (v & mask);
        }
    }

    /// <summary>Makes DIV/IDIV inputs non-faulting (the host would die on #DE); #DE itself is covered by table tests.</summary>
    private bool FixDivision(Random r, Code code, MachineState s, Build b, OpCodeInfo op)
    {
        var m = code.Mnemonic();
        if (m is not (Mnemonic.Div or Mnemonic.Idiv))
        {
            return true;
        }
        int size = SizeOf(op.GetOpKind(0));
        if (b.MemOperand == 0) size = op.MemorySize.GetSize();
        ulong mask = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        ulong divisor = ReadOperand(s, b, 0, size);
        if (divisor == 0)
        {
            divisor = 1 + (ulong)r.Next(1000);
            WriteOperand(s, b, 0, size, divisor);
            divisor = ReadOperand(s, b, 0, size);
            if (divisor == 0)
            {
                // 256, 512 or 768 in a byte operand
                WriteOperand(s, b, 0, size, 1);
                divisor = 1;
            }
        }
        // divisor registers may alias RAX/RDX (e.g. div rax): then the dividend is constrained by them
        int divReg = b.MemOperand == 0 ? -1 : b.RegIndex[0];
        if (divReg is 0 or 2 or 16 or 18)
        {
            return false;
        }
        int sh = 64 - size * 8;
        if (m == Mnemonic.Div)
        {
            ulong high = (Values.Next(r) & mask) % divisor;
            if (size == 1) s.Gpr[0] = (s.Gpr[0] & ~0xFF00UL) | (high << 8);
            else s.Gpr[2] = (s.Gpr[2] & ~mask) | high;
        }
        else
        {
            long sdiv = (long)(divisor << sh) >> sh;
            ulong low = (size == 1 ? s.Gpr[0] : s.Gpr[0]) & mask;
            long slow = (long)(low << sh) >> sh;
            if (sdiv == -1 && slow == (long.MinValue >> sh)) { slow += 1; }
            ulong highBits = slow < 0 ? mask : 0;
            if (size == 1)
            {
                s.Gpr[0] = (s.Gpr[0] & ~0xFFFFUL) | ((ulong)slow & 0xFF) | ((highBits & 0xFF) << 8);
            }
            else
            {
                s.Gpr[0] = (s.Gpr[0] & ~mask) | ((ulong)slow & mask);
                s.Gpr[2] = (s.Gpr[2] & ~mask) | highBits;
            }
        }
        return true;
    }

    /// <summary>Flags (and registers) the SDM leaves undefined for this instruction and these inputs.</summary>
    private (ulong Flags, ushort IgnoreGpr) Undefined(Mnemonic m, Code code, MachineState s, Build b, OpCodeInfo op, in Instruction ins)
    {
        ulong f = ArithAndDf;
        ushort ignore = 0;
        int size = op.OpCount > 0 ? (b.MemOperand == 0 ? op.MemorySize.GetSize() : SizeOf(op.GetOpKind(0))) : 8;
        int bits = size * 8;
        switch (m)
        {
            case Mnemonic.And:
            case Mnemonic.Or:
            case Mnemonic.Xor:
            case Mnemonic.Test:
                f &= ~Flag.AF;
                break;
            case Mnemonic.Shl:
            case Mnemonic.Sal:
            case Mnemonic.Shr:
            case Mnemonic.Sar:
            case Mnemonic.Rol:
            case Mnemonic.Ror:
            case Mnemonic.Rcl:
            case Mnemonic.Rcr:
                {
                    ulong raw = op.GetOpKind(1) == OpCodeOperandKind.cl ? s.Gpr[1] & 0xFF : op.GetOpKind(1) == OpCodeOperandKind.imm8_const_1 ? 1UL : ins.Immediate8;
                    int cnt = (int)(raw & (size == 8 ? 0x3FUL : 0x1FUL));
                    if (cnt != 0)
                    {
                        if (cnt != 1) f &= ~Flag.OF;
                        if (m is Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar) f &= ~Flag.AF;
                        if (m is Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr && cnt >= bits) f &= ~Flag.CF;
                    }
                    break;
                }
            case Mnemonic.Shld:
            case Mnemonic.Shrd:
                {
                    ulong raw = op.GetOpKind(2) == OpCodeOperandKind.cl ? s.Gpr[1] & 0xFF : ins.Immediate8;
                    int cnt = (int)(raw & (size == 8 ? 0x3FUL : 0x1FUL));
                    if (cnt != 0)
                    {
                        f &= ~Flag.AF;
                        if (cnt != 1) f &= ~Flag.OF;
                        if (cnt > bits)
                        {
                            f &= ~(Flag.Arith);
                            if (b.MemOperand == 0) return (0, 0xFFFF); // memory result undefined: compare nothing but flags mask 0
                            ignore |= (ushort)(1 << (b.RegIndex[0] & 15));
                        }
                    }
                    break;
                }
            case Mnemonic.Mul:
            case Mnemonic.Imul:
                f &= ~(Flag.SF | Flag.ZF | Flag.AF | Flag.PF);
                break;
            case Mnemonic.Div:
            case Mnemonic.Idiv:
                f &= ~Flag.Arith;
                break;
            case Mnemonic.Bt:
            case Mnemonic.Bts:
            case Mnemonic.Btr:
            case Mnemonic.Btc:
                f &= ~(Flag.OF | Flag.SF | Flag.AF | Flag.PF);
                break;
            case Mnemonic.Bsf:
            case Mnemonic.Bsr:
                f &= ~(Flag.CF | Flag.OF | Flag.SF | Flag.AF | Flag.PF);
                if (ReadOperand(s, b, 1, size) == 0)
                {
                    ignore |= (ushort)(1 << (b.RegIndex[0] & 15));
                }
                break;
            case Mnemonic.Tzcnt:
            case Mnemonic.Lzcnt:
                f &= ~(Flag.OF | Flag.SF | Flag.AF | Flag.PF);
                break;
        }
        return (f, ignore);
    }
}
