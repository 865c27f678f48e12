using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// A host hook refusing a MOV to CR, a WRMSR or a descriptor-table load (DESIGN.md, Faults): the
/// guest gets #GP(0) on the instruction, nothing changes, the instructions before it retire, and
/// no .NET exception is thrown on the way (an intercepting host refuses a write per VM exit, so the
/// refusal must not cost an exception unwind). The same writes, allowed, take effect.
/// </summary>
public sealed class HookRefusalTests
{
    private sealed class Refuser(bool refuse) : IControlRegisterHook, IDescriptorTableHook, IMsrHook
    {
        public int Asked;

        public bool AllowWrite(Cpu cpu, int register, ulong oldValue, ulong newValue)
        {
            Asked++;
            return !refuse;
        }

        public bool AllowLoad(Cpu cpu, DescriptorTableLoad register, ulong @base, ushort limit, ushort selector)
        {
            Asked++;
            return !refuse;
        }

        public MsrResult Read(Cpu cpu, uint msr, out ulong value)
        {
            value = 0;
            return MsrResult.NotHandled;
        }

        public MsrResult Write(Cpu cpu, uint msr, ulong value)
        {
            Asked++;
            return refuse ? MsrResult.GeneralProtection : MsrResult.NotHandled;
        }
    }

    public static TheoryData<string> Writes => ["cr4", "cr0", "wrmsr", "lgdt", "lidt", "ltr", "lldt"];

    // LTR needs a TSS descriptor to succeed; its hook call site is the LLDT one's twin
    public static TheoryData<string> AllowedWrites => ["cr4", "cr0", "wrmsr", "lgdt", "lidt", "lldt"];

    private static void Emit(Assembler a, string write)
    {
        switch (write)
        {
            case "cr4": a.mov(rax, cr4); a.xor(eax, 1 << 18); a.mov(cr4, rax); break;
            case "cr0": a.mov(rax, cr0); a.xor(eax, 1 << 18); a.mov(cr0, rax); break;
            case "wrmsr": a.mov(ecx, 0xC000_0082); a.mov(eax, 0x4000); a.xor(edx, edx); a.wrmsr(); break;
            case "lgdt": a.mov(rax, GuestBox.DataBase); a.lgdt(__[rax]); break;
            case "lidt": a.mov(rax, GuestBox.DataBase); a.lidt(__[rax]); break;
            case "ltr": a.xor(eax, eax); a.ltr(ax); break;
            default: a.xor(eax, eax); a.lldt(ax); break;
        }
    }

    private static (ulong Cr0, ulong Cr4, ulong Lstar, ulong Gdtr, ulong Idtr, ushort Tr, ushort Ldtr) State(Cpu cpu) =>
        (cpu.Cr0, cpu.Cr4, cpu.Lstar, cpu.Gdtr.Base, cpu.Idtr.Base, cpu.Tr.Selector, cpu.Ldtr.Selector);

    [Theory]
    [MemberData(nameof(Writes))]
    public void A_refused_write_is_GP_on_the_instruction_with_nothing_changed_and_no_host_exception(string write)
    {
        using var box = new GuestBox();
        var hook = new Refuser(refuse: true);
        box.Cpu.ControlRegisterHook = hook;
        box.Cpu.DescriptorTableHook = hook;
        box.Cpu.MsrHook = hook;
        box.WriteU64(GuestBox.DataBase, 0xFF | 0x1234_5678UL << 16);   // limit 0xFF, base 0x12345678
        ulong target = 0;
        box.Load(a =>
        {
            Emit(a, write);
            a.hlt();
        });
        // the address of the refused instruction: the last one before HLT
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(box.Memory.Slice(GuestBox.CodeBase, (int)(box.CodeEnd - GuestBox.CodeBase)).ToArray()), GuestBox.CodeBase);
        int count = 0;
        while (decoder.IP < box.CodeEnd - 1)
        {
            target = decoder.IP;
            decoder.Decode();
            count++;
        }
        var before = State(box.Cpu);
        long retiredBefore = box.Cpu.InstructionsRetired;

        int thread = Environment.CurrentManagedThreadId, thrown = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (Environment.CurrentManagedThreadId == thread) thrown++;
        }
        AppDomain.CurrentDomain.FirstChanceException += Count;
        StopReason stop;
        try
        {
            stop = box.Run();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal(StopReason.Exception, stop);
        var pending = box.Cpu.PendingException!.Value;
        Assert.Equal(GuestFault.GP(), pending.Fault);
        Assert.False(pending.IsSoftwareInterrupt);
        Assert.Equal(target, pending.InstructionRip);
        Assert.Equal(target, box.Cpu.Rip);
        Assert.Equal(1, hook.Asked);
        Assert.Equal(before, State(box.Cpu));
        Assert.Equal(count - 1, box.Cpu.InstructionsRetired - retiredBefore);
        Assert.Equal(0, thrown);
    }

    [Theory]
    [MemberData(nameof(AllowedWrites))]
    public void An_allowed_write_takes_effect(string write)
    {
        using var box = new GuestBox();
        var hook = new Refuser(refuse: false);
        box.Cpu.ControlRegisterHook = hook;
        box.Cpu.DescriptorTableHook = hook;
        box.Cpu.MsrHook = hook;
        box.WriteU64(GuestBox.DataBase, 0xFF | 0x1234_5678UL << 16);
        box.Cpu.Ldtr = new SegmentRegister { Selector = 0x28 };
        var before = State(box.Cpu);
        box.Load(a =>
        {
            Emit(a, write);
            a.hlt();
        });

        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(1, hook.Asked);
        var after = State(box.Cpu);
        Assert.NotEqual(before, after);
        switch (write)
        {
            case "cr4": Assert.Equal(before.Cr4 ^ (1UL << 18), after.Cr4); break;
            case "cr0": Assert.Equal(before.Cr0 ^ (1UL << 18), after.Cr0); break;
            case "wrmsr": Assert.Equal(0x4000UL, after.Lstar); break;
            case "lgdt": Assert.Equal(0x1234_5678UL, after.Gdtr); break;
            case "lidt": Assert.Equal(0x1234_5678UL, after.Idtr); break;
        }
    }
}
