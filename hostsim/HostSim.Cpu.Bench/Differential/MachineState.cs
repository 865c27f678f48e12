using System.Text;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>User-visible state compared between the host CPU and the interpreter.</summary>
internal sealed class MachineState
{
    public readonly ulong[] Gpr = new ulong[16];
    public ulong Rflags;
    public readonly ulong[] XmmLo = new ulong[16];
    public readonly ulong[] XmmHi = new ulong[16];
    public byte[] Data = [];
    public byte[] Stack = [];

    public MachineState Clone()
    {
        var s = new MachineState { Rflags = Rflags, Data = (byte[])Data.Clone(), Stack = (byte[])Stack.Clone() };
        Gpr.CopyTo(s.Gpr, 0);
        XmmLo.CopyTo(s.XmmLo, 0);
        XmmHi.CopyTo(s.XmmHi, 0);
        return s;
    }

    private static readonly string[] Names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public static string RegName(int i) => Names[i];

    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 16; i++)
        {
            sb.Append($"{Names[i],4}=0x{Gpr[i]:x16}{(i % 4 == 3 ? "\n" : " ")}");
        }
        sb.Append($"rflags=0x{Rflags:x}\n");
        for (int i = 0; i < 16; i++)
        {
            if (XmmLo[i] != 0 || XmmHi[i] != 0)
            {
                sb.Append($"xmm{i}=0x{XmmHi[i]:x16}_{XmmLo[i]:x16}\n");
            }
        }
        return sb.ToString();
    }
}
