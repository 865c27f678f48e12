using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 12: VTL1's intercepts of VTL0's CR, descriptor-table and MSR
/// writes, the register and MSR intercept messages, and both answers (emulate, inject).</summary>
public sealed class RegisterInterceptTests
{
    private const ulong In = VsmGuestMachine.InputPage, Out = VsmGuestMachine.OutputPage;
    private const ulong Pge = 1UL << 7, Osxsave = 1UL << 18, Smep = 1UL << 20;
    private const byte Vtl0 = HvInputVtl.UseTargetVtl;

    /// <summary>VTL1's first answer: the intercept controls, then VTL0 runs its body.</summary>
    private static MachineOutcome Arm(Vtl1Session s, ulong control, ulong cr0Mask = 0, ulong cr4Mask = 0)
    {
        s.WriteSet(In, 0, (HvRegister.CrInterceptControl, control), (HvRegister.CrInterceptCr0Mask, cr0Mask), (HvRegister.CrInterceptCr4Mask, cr4Mask));
        var outcome = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 3), In, 0, 0));
        Assert.Equal(3UL << 32, s.Result(0));
        return outcome;
    }

    /// <summary>VTL1 emulates: sets VTL0's <paramref name="name"/> and moves its RIP past the instruction.</summary>
    private static MachineOutcome Emulate(Vtl1Session s, uint name, UInt128 value)
    {
        ulong length = (ulong)(s.Payload[HvMessage.HeaderInstructionLength] & 0xF);
        s.WriteSet(In, Vtl0, (name, value), (HvRegister.Rip, s.Vtl0Rip + length));
        var outcome = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 2), In, 0, 1));
        Assert.Equal(2UL << 32, s.Result(1));
        return outcome;
    }

    private static uint Type(Vtl1Session s) => BinaryPrimitives.ReadUInt32LittleEndian(s.Message);

    [Fact]
    public void A_cr4_write_changing_a_masked_bit_reaches_vtl1_which_emulates_it()
    {
        using var g = new VsmGuestMachine();
        ulong cr4 = g.Cpu.Cr4;
        ulong wanted = cr4 | Osxsave;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rbx, wanted);
            a.mov(AssemblerRegisters.cr4, rbx);          // 0F 22 E3: 3 bytes
            a.mov(r15, AssemblerRegisters.cr4);
        });
        ulong write = s.Body + 10;
        Arm(s, HvCrIntercept.Cr4Write, cr4Mask: ~(Pge | Smep));

        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvVpAssist.EntryReasonIntercept, s.EntryReason);
        Assert.Equal(HvMessage.TypeRegisterIntercept, Type(s));
        Assert.Equal(HvMessage.RegisterSize, s.Message[HvMessage.PayloadSizeOffset]);
        var p = s.Payload;
        Assert.Equal(3, p[HvMessage.HeaderInstructionLength] & 0xF);
        Assert.Equal(HvMessage.AccessWrite, p[HvMessage.HeaderAccessType]);
        Assert.Equal(write, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.HeaderRip..]));
        Assert.Equal(0, p[HvMessage.RegisterIsMemoryOp]);
        Assert.Equal(HvRegister.Cr4, BinaryPrimitives.ReadUInt32LittleEndian(p[HvMessage.RegisterName..]));
        Assert.Equal((UInt128)wanted, BinaryPrimitives.ReadUInt128LittleEndian(p[HvMessage.RegisterValue..]));
        Assert.Equal(write, s.Vtl0Rip);
        Assert.Equal(cr4, g.Host.Partition.Vps[0].Saved(0)!.Cr4);

        var end = Emulate(s, HvRegister.Cr4, wanted);
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(wanted, g.Cpu.Cr4);
        Assert.Equal(wanted, g.Cpu.Gpr[15]);
        Assert.Equal(1L, g.Host.InterceptCount);
    }

    [Fact]
    public void A_cr4_write_changing_only_unmasked_bits_happens_without_vtl1()
    {
        using var g = new VsmGuestMachine();
        ulong cr4 = g.Cpu.Cr4;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rbx, cr4 ^ Pge);
            a.mov(AssemblerRegisters.cr4, rbx);
        });
        Arm(s, HvCrIntercept.Cr4Write, cr4Mask: ~(Pge | Smep));
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(cr4 ^ Pge, g.Cpu.Cr4);
        Assert.Equal(0L, g.Host.InterceptCount);
    }

    [Fact]
    public void A_cr0_write_changing_wp_is_refused_by_vtl1_with_an_injected_general_protection_fault()
    {
        using var g = new VsmGuestMachine();
        ulong cr0 = g.Cpu.Cr0;
        const ulong Wp = 1UL << 16;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rbx, cr0 ^ Wp);
            a.mov(AssemblerRegisters.cr0, rbx);
        });
        ulong write = s.Body + 10;
        Arm(s, HvCrIntercept.Cr0Write, cr0Mask: Wp | 1 | (1UL << 31));
        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvRegister.Cr0, BinaryPrimitives.ReadUInt32LittleEndian(s.Payload[HvMessage.RegisterName..]));
        ulong rsp = g.Host.Partition.Vps[0].Saved(0)!.Rsp;

        s.WriteSet(In, Vtl0, (HvRegister.PendingEvent0, 1 | HvPendingEvent.DeliverErrorCode | 13UL << 16));
        var end = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, 0, 1));

        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal((uint)GuestFault.GeneralProtection, g.Vm.DebugExit.Value);
        Assert.Equal(cr0, g.Cpu.Cr0);
        Assert.Equal(0UL, g.ReadU64(rsp - 48));     // error code 0
        Assert.Equal(write, g.ReadU64(rsp - 40));   // the MOV to CR0
    }

    public static TheoryData<string, ulong, uint> TableLoads => new()
    {
        { "lgdt", HvCrIntercept.GdtrWrite, HvRegister.Gdtr },
        { "lidt", HvCrIntercept.IdtrWrite, HvRegister.Idtr },
        { "lldt", HvCrIntercept.LdtrWrite, HvRegister.Ldtr },
        { "ltr", HvCrIntercept.TrWrite, HvRegister.Tr },
    };

    [Theory]
    [MemberData(nameof(TableLoads))]
    public void Descriptor_table_loads_are_intercepted_with_the_value_they_would_load(string instruction, ulong bit, uint name)
    {
        using var g = new VsmGuestMachine();
        const ulong operand = 0x150000;
        g.WriteU64(operand, 0x1234_5678_9ABC_0FFFUL);   // limit 0x0FFF, base 0x...12345678_9ABC
        g.WriteU64(operand + 8, 0);
        var gdtr = g.Cpu.Gdtr;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, operand);
            a.mov(ebx, 0x30);
            switch (instruction)
            {
                case "lgdt": a.lgdt(__[rsi]); break;
                case "lidt": a.lidt(__[rsi]); break;
                case "lldt": a.lldt(bx); break;
                default: a.ltr(bx); break;
            }
        });
        Arm(s, bit);

        Assert.Equal(1, g.Host.CurrentVtl);
        var p = s.Payload;
        Assert.Equal(name, BinaryPrimitives.ReadUInt32LittleEndian(p[HvMessage.RegisterName..]));
        var value = BinaryPrimitives.ReadUInt128LittleEndian(p[HvMessage.RegisterValue..]);
        bool table = instruction is "lgdt" or "lidt";
        Assert.Equal(table ? ((UInt128)0x1234_5678_9ABCUL << 64) | ((UInt128)0x0FFF << 48) : 0x30, value);
        Assert.Equal(table ? 1 : 0, p[HvMessage.RegisterIsMemoryOp]);
        // LGDT/LIDT [rsi] are 3 bytes; Iced encodes LLDT/LTR BX with an operand-size prefix: 4
        int length = table ? 3 : 4;
        Assert.Equal(length, p[HvMessage.HeaderInstructionLength] & 0xF);
        Assert.Equal(gdtr, g.Host.Partition.Vps[0].Saved(0)!.Gdtr);

        // VTL1 skips the instruction (as LVBS does for a locked table: here without #GP)
        s.WriteSet(In, Vtl0, (HvRegister.Rip, s.Vtl0Rip + (ulong)length));
        var end = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, 0, 1));
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(gdtr, g.Cpu.Gdtr);
    }

    [Fact]
    public void An_lstar_write_reaches_vtl1_as_an_msr_intercept_and_vtl1_emulates_it()
    {
        using var g = new VsmGuestMachine();
        const ulong handler = 0xFFFF_8000_0012_3000UL;
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(ecx, 0xC000_0082);
            a.mov(eax, (uint)(handler & 0xFFFF_FFFF));
            a.mov(edx, (uint)(handler >> 32));
            a.wrmsr();
            a.mov(r15d, 0x77);
        });
        Arm(s, HvCrIntercept.LstarWrite | HvCrIntercept.EferWrite);

        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvMessage.TypeMsrIntercept, Type(s));
        var p = s.Payload;
        Assert.Equal(0xC000_0082u, BinaryPrimitives.ReadUInt32LittleEndian(p[HvMessage.MsrNumber..]));
        Assert.Equal(handler >> 32, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.MsrRdx..]));
        Assert.Equal(handler & 0xFFFF_FFFF, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.MsrRax..]));
        Assert.Equal(2, p[HvMessage.HeaderInstructionLength] & 0xF);
        Assert.Equal(0UL, g.Host.Partition.Vps[0].Saved(0)!.Lstar);

        var end = Emulate(s, HvRegister.Lstar, handler);
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(handler, g.Cpu.Lstar);
        Assert.Equal(0x77UL, g.Cpu.Gpr[15]);
    }

    [Fact]
    public void Writes_vtl1_did_not_ask_for_and_vtl1s_own_writes_are_not_intercepted()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(ecx, 0xC000_0081);   // STAR: not asked for
            a.mov(eax, 0x1234);
            a.xor(edx, edx);
            a.wrmsr();
        });
        Arm(s, HvCrIntercept.LstarWrite | HvCrIntercept.Cr4Write, cr4Mask: ulong.MaxValue);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(0x1234UL, g.Cpu.Star);
        Assert.Equal(0L, g.Host.InterceptCount);
    }

    [Theory]
    [InlineData(1UL << 2)]     // XCR0
    [InlineData(1UL << 3)]     // MISC_ENABLE read
    [InlineData(1UL << 5)]     // LSTAR read
    [InlineData(1UL << 19)]    // SYSENTER_CS (hostsim has no SYSENTER MSRs)
    [InlineData(1UL << 24)]
    public void Intercept_bits_hostsim_does_not_offer_are_invalid_parameter(ulong bit)
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.CrInterceptControl, bit | HvCrIntercept.Cr0Write));
        Assert.Equal((ulong)HvStatus.InvalidParameter, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out));
        Assert.Equal(0UL, g.Host.Partition.Vps[0].CrInterceptControl);
        // VTL1's own CR4 write with every intercept armed happens (intercepts are VTL0's)
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.CrInterceptControl, HvCrIntercept.Cr4Write), (HvRegister.CrInterceptCr4Mask, ulong.MaxValue));
        Assert.Equal(2UL << 32, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 2), In, Out));
        ulong cr4 = g.Cpu.Cr4 ^ Pge;
        g.Cpu.Gpr[Processor.RBX] = cr4;
        g.Execute(a => a.mov(AssemblerRegisters.cr4, rbx)).AssertCompleted();
        Assert.Equal(cr4, g.Cpu.Cr4);
        _ = default(Assembler);
    }
}
