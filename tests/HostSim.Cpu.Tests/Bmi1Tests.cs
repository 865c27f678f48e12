using System.Runtime.Intrinsics.X86;
using HekiGuest.HostSim.Cpu.Bench.Differential;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>BEXTR, BLSI, BLSMSK, BLSR (VEX-encoded BMI1): values and the defined flags (CF, ZF,
/// SF, OF) against the SDM and, where the host has BMI1, against the host CPU.</summary>
public sealed class Bmi1Tests
{
    private const ulong DefinedFlags = Flag.CF | Flag.ZF | Flag.SF | Flag.OF;

    public static TheoryData<string, ulong, ulong, ulong, ulong> Cases => new()
    {
        // name, rbx (source), rcx (BEXTR control), expected rax, expected defined flags
        { "blsi", 0b1011000, 0, 0b1000, Flag.CF },
        { "blsi", 0, 0, 0, Flag.ZF },
        { "blsi", 0x8000_0000_0000_0000, 0, 0x8000_0000_0000_0000, Flag.CF | Flag.SF },
        { "blsmsk", 0b101000, 0, 0b1111, 0 },
        { "blsmsk", 0, 0, ulong.MaxValue, Flag.CF | Flag.SF },
        { "blsr", 0b101000, 0, 0b100000, 0 },
        { "blsr", 0, 0, 0, Flag.CF | Flag.ZF },
        { "blsr", 0xC000_0000_0000_0000, 0, 0x8000_0000_0000_0000, Flag.SF },
        { "bextr", 0x1234_5678_9ABC_DEF0, 0x1008, 0xBCDE, 0 },
        { "bextr", 0x1234_5678_9ABC_DEF0, 0x0008, 0, Flag.ZF },          // length 0
        { "bextr", 0x1234_5678_9ABC_DEF0, 0xFF04, 0x0123_4567_89AB_CDEF, 0 },   // length past the top
        { "bextr", 0x1234_5678_9ABC_DEF0, 0x1040, 0, Flag.ZF },          // start past the top
        { "blsi32", 0xFFFF_FFFF_0000_0000, 0, 0, Flag.ZF },              // 32-bit: upper half ignored, result zero-extended
    };

    private static void Emit(Assembler a, string name)
    {
        switch (name)
        {
            case "blsi": a.blsi(rax, rbx); break;
            case "blsmsk": a.blsmsk(rax, rbx); break;
            case "blsr": a.blsr(rax, rbx); break;
            case "bextr": a.bextr(rax, rbx, rcx); break;
            default: a.blsi(eax, ebx); break;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_and_flags_follow_the_sdm(string name, ulong src, ulong control, ulong expected, ulong flags)
    {
        using var box = new GuestBox();
        box.Cpu.Gpr[Cpu.RAX] = 0x5555;
        box.Cpu.Gpr[Cpu.RBX] = src;
        box.Cpu.Gpr[Cpu.RCX] = control;
        box.Cpu.Rflags = 0x2 | Flag.OF | Flag.CF | Flag.ZF | Flag.SF;
        box.Load(a => { Emit(a, name); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(expected, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(flags, box.Cpu.Rflags & DefinedFlags);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_and_defined_flags_match_the_host(string name, ulong src, ulong control, ulong expected, ulong flags)
    {
        _ = expected;
        _ = flags;
        if (!RwxRegion.IsSupported || !Bmi1.IsSupported) return;
        using var fuzzer = new DifferentialFuzzer();
        var rig = fuzzer.Rig;
        var a = new Assembler(64);
        Emit(a, name);
        var w = new ByteListWriter();
        a.Assemble(w, rig.CodeStart);
        var input = new MachineState { Rflags = 0x202 | Flag.OF | Flag.CF | Flag.ZF | Flag.SF, Data = new byte[DifferentialRig.DataSize], Stack = new byte[DifferentialRig.StackSize] };
        input.Gpr[Cpu.RAX] = 0x5555;
        input.Gpr[Cpu.RBX] = src;
        input.Gpr[Cpu.RCX] = control;
        input.Gpr[Cpu.RSP] = rig.StackTop;
        var (emu, fault) = rig.RunInterpreter(w.ToArray(), input.Clone());
        Assert.True(emu != null, fault);
        var host = rig.RunHost(w.ToArray(), input.Clone());
        Assert.Equal(host.Gpr[Cpu.RAX], emu!.Gpr[Cpu.RAX]);
        Assert.Equal(host.Rflags & DefinedFlags, emu.Rflags & DefinedFlags);
    }
}
