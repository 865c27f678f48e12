using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>Multi-instruction templates: branches, calls/returns, loops, string instructions, PUSHF/POPF.</summary>
internal sealed partial class CaseGenerator
{
    private static readonly string[] TemplateNames =
    [
        "jcc", "jmp-indirect", "call-ret", "call-indirect", "ret-imm", "loop", "jrcxz", "string", "pushf-popf", "cmp-jcc-loop",
    ];

    public static IReadOnlyList<string> Templates => TemplateNames;

    private DifferentialCase? Template(Random r) => Template(r, r.Next(TemplateNames.Length));

    public DifferentialCase? Template(Random r, int which)
    {
        var s = RandomState(r);
        var a = new Assembler(64) { PreferShortBranch = r.Next(2) == 0 };
        string name = TemplateNames[which];
        ulong flagsMask = ArithAndDf;
        switch (name)
        {
            case "jcc":
                {
                    var skip = a.CreateLabel();
                    int cc = r.Next(16);
                    EmitJcc(a, cc, skip);
                    a.inc(edx);
                    a.Label(ref skip);
                    a.nop();
                    name += cc;
                    break;
                }
            case "jmp-indirect":
                {
                    var target = a.CreateLabel();
                    a.lea(rcx, __[target]);
                    if (r.Next(2) == 0)
                    {
                        a.jmp(rcx);
                    }
                    else
                    {
                        a.mov(__qword_ptr[rsp - 8], rcx);
                        a.jmp(__qword_ptr[rsp - 8]);
                    }
                    a.inc(edx);
                    a.Label(ref target);
                    a.nop();
                    break;
                }
            case "call-ret":
                {
                    var fn = a.CreateLabel();
                    var end = a.CreateLabel();
                    a.call(fn);
                    a.inc(edx);
                    a.jmp(end);
                    a.Label(ref fn);
                    a.add(esi, 3);
                    a.mov(rdi, __qword_ptr[rsp]);
                    a.ret();
                    a.Label(ref end);
                    a.nop();
                    break;
                }
            case "call-indirect":
                {
                    var fn = a.CreateLabel();
                    var end = a.CreateLabel();
                    a.lea(rbx, __[fn]);
                    if (r.Next(2) == 0)
                    {
                        a.call(rbx);
                    }
                    else
                    {
                        a.push(rbx);
                        a.call(__qword_ptr[rsp]);
                        a.pop(rbx);
                    }
                    a.jmp(end);
                    a.Label(ref fn);
                    a.sub(esi, 7);
                    a.ret();
                    a.Label(ref end);
                    a.nop();
                    break;
                }
            case "ret-imm":
                {
                    var fn = a.CreateLabel();
                    var end = a.CreateLabel();
                    a.push(rax);
                    a.push(rcx);
                    a.call(fn);
                    a.jmp(end);
                    a.Label(ref fn);
                    a.mov(rdx, __qword_ptr[rsp + 8]);
                    a.ret(16);
                    a.Label(ref end);
                    a.nop();
                    break;
                }
            case "loop":
                {
                    s.Gpr[1] = (ulong)(uint)r.Next(1, 8) | (r.Next(2) == 0 ? 0UL : 0xFFFF_FFFF_0000_0000UL);
                    if ((s.Gpr[1] & 0xFFFF_FFFF) == 0) s.Gpr[1] |= 1;
                    var top = a.CreateLabel();
                    a.Label(ref top);
                    a.inc(edx);
                    a.cmp(edx, (int)(uint)s.Gpr[2] + r.Next(0, 4));
                    switch (r.Next(3))
                    {
                        case 0: a.loop(top); break;
                        case 1: a.loope(top); break;
                        default: a.loopne(top); break;
                    }
                    // 32-bit address-size loops (ECX) are not produced by the assembler here; RCX form only
                    if ((s.Gpr[1] >> 32) != 0) s.Gpr[1] &= 0xFF;
                    break;
                }
            case "jrcxz":
                {
                    s.Gpr[1] = r.Next(2) == 0 ? 0 : Values.Next(r);
                    var skip = a.CreateLabel();
                    if (r.Next(2) == 0) a.jrcxz(skip); else a.jecxz(skip);
                    a.inc(edx);
                    a.Label(ref skip);
                    a.nop();
                    break;
                }
            case "string":
                {
                    int sizeSel = r.Next(4);
                    int kind = r.Next(5);
                    var rep = r.Next(3) switch { 0 => RepPrefixKind.None, 1 => RepPrefixKind.Repe, _ => RepPrefixKind.Repne };
                    if (kind <= 2 && rep == RepPrefixKind.Repne) rep = RepPrefixKind.Repe;
                    Instruction ins = (kind, sizeSel) switch
                    {
                        (0, 0) => Instruction.CreateMovsb(64, Register.None, rep),
                        (0, 1) => Instruction.CreateMovsw(64, Register.None, rep),
                        (0, 2) => Instruction.CreateMovsd(64, Register.None, rep),
                        (0, _) => Instruction.CreateMovsq(64, Register.None, rep),
                        (1, 0) => Instruction.CreateStosb(64, rep),
                        (1, 1) => Instruction.CreateStosw(64, rep),
                        (1, 2) => Instruction.CreateStosd(64, rep),
                        (1, _) => Instruction.CreateStosq(64, rep),
                        (2, 0) => Instruction.CreateLodsb(64, Register.None, rep),
                        (2, 1) => Instruction.CreateLodsw(64, Register.None, rep),
                        (2, 2) => Instruction.CreateLodsd(64, Register.None, rep),
                        (2, _) => Instruction.CreateLodsq(64, Register.None, rep),
                        (3, 0) => Instruction.CreateCmpsb(64, Register.None, rep),
                        (3, 1) => Instruction.CreateCmpsw(64, Register.None, rep),
                        (3, 2) => Instruction.CreateCmpsd(64, Register.None, rep),
                        (3, _) => Instruction.CreateCmpsq(64, Register.None, rep),
                        (_, 0) => Instruction.CreateScasb(64, rep),
                        (_, 1) => Instruction.CreateScasw(64, rep),
                        (_, 2) => Instruction.CreateScasd(64, rep),
                        _ => Instruction.CreateScasq(64, rep),
                    };
                    bool down = r.Next(2) == 0;
                    s.Rflags = (s.Rflags & ~Flag.DF) | (down ? Flag.DF : 0);
                    s.Gpr[1] = (ulong)r.Next(0, 40);
                    s.Gpr[6] = rig.DataStart + 1024 + (ulong)r.Next(0, 1024);
                    s.Gpr[7] = rig.DataStart + 2560 + (ulong)r.Next(0, 1024);
                    if (kind >= 3 && r.Next(2) == 0)
                    {
                        // make the compared areas mostly equal so REPE runs for a while
                        int n = r.Next(0, 300);
                        for (int i = 0; i < n; i++) s.Data[(int)(s.Gpr[7] - rig.DataStart) - 150 + i] = s.Data[(int)(s.Gpr[6] - rig.DataStart) - 150 + i];
                        s.Gpr[0] = BitConverter.ToUInt64(s.Data, (int)(s.Gpr[7] - rig.DataStart));
                    }
                    _writer.Clear();
                    var enc = Encoder.Create(64, _writer);
                    if (!enc.TryEncode(ins, rig.CodeStart, out _, out _)) return null;
                    var code = _writer.ToArray();
                    return new DifferentialCase($"string {ins.Code} rep={rep} df={down}", code, s, flagsMask, 0, "string:" + ins.Code);
                }
            case "pushf-popf":
                {
                    a.pushfq();
                    a.xor(__qword_ptr[rsp], (int)(uint)((ulong)r.NextInt64() & (Flag.Arith | Flag.DF)));
                    a.popfq();
                    a.pushfq();
                    a.pop(rax);
                    a.and(rax, (int)(Flag.Arith | Flag.DF | Flag.IF | 2));
                    break;
                }
            default: // cmp-jcc-loop: a small counted loop with a data-dependent branch
                {
                    s.Gpr[1] = (ulong)r.Next(1, 20);
                    var top = a.CreateLabel();
                    var skip = a.CreateLabel();
                    a.Label(ref top);
                    a.add(rax, rbx);
                    a.cmp(rax, rdx);
                    EmitJcc(a, r.Next(16), skip);
                    a.xor(rbx, rsi);
                    a.Label(ref skip);
                    a.rol(rdx, 3);
                    a.dec(rcx);
                    a.jne(top);
                    break;
                }
        }
        var w = new ByteListWriter();
        try
        {
            a.Assemble(w, rig.CodeStart);
        }
        catch (Exception)
        {
            return null;
        }
        return new DifferentialCase(name, w.ToArray(), s, flagsMask, 0, "template:" + TemplateNames[which]);
    }

    private static void EmitJcc(Assembler a, int cc, Label l)
    {
        switch (cc)
        {
            case 0: a.jo(l); break;
            case 1: a.jno(l); break;
            case 2: a.jb(l); break;
            case 3: a.jae(l); break;
            case 4: a.je(l); break;
            case 5: a.jne(l); break;
            case 6: a.jbe(l); break;
            case 7: a.ja(l); break;
            case 8: a.js(l); break;
            case 9: a.jns(l); break;
            case 10: a.jp(l); break;
            case 11: a.jnp(l); break;
            case 12: a.jl(l); break;
            case 13: a.jge(l); break;
            case 14: a.jle(l); break;
            default: a.jg(l); break;
        }
    }
}
