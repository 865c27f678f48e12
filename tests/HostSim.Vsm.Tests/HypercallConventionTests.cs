using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 4: the TLFS calling convention through the hypercall page.</summary>
public sealed class HypercallConventionTests
{
    private const ulong Unimplemented = 0x0001;   // HvCallSwitchVirtualAddressSpace: not offered here
    private const ulong Fast = 1UL << 16;
    private static readonly ulong In = VsmGuestMachine.InputPage, Out = VsmGuestMachine.OutputPage;

    private static VsmGuestMachine SetUp()
    {
        var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        return g;
    }

    [Fact]
    public void A_fast_call_with_an_unimplemented_code_returns_invalid_hypercall_code()
    {
        using var g = SetUp();
        Assert.Equal(2UL, g.CallHypercallPage(Unimplemented | Fast, 0x1234, 0x5678));
        Assert.Equal(0x1234UL, g.Cpu.Gpr[Processor.RDX]);
        Assert.Equal(0x5678UL, g.Cpu.Gpr[8]);
        Assert.Equal(1L, g.Host.Hypercalls.Calls);
    }

    [Fact]
    public void A_memory_form_call_with_an_unimplemented_code_returns_invalid_hypercall_code()
    {
        using var g = SetUp();
        Assert.Equal(2UL, g.CallHypercallPage(Unimplemented, In, Out));
        Assert.Equal(new HypercallInput(1, false, 0, 0, 0), g.Host.Hypercalls.LastInput);
    }

    [Theory]
    [InlineData(HvCall.TranslateVirtualAddress)]
    [InlineData(HvCall.StartVirtualProcessor)]
    [InlineData(HvCall.GetVpIndexFromApicId)]
    [InlineData(0xFFFF)]
    public void Every_code_hostsim_does_not_offer_is_invalid(ushort code)
    {
        using var g = SetUp();
        Assert.Equal(2UL, g.CallHypercallPage(code, In, Out));
    }

    [Fact]
    public void The_input_value_fields_are_decoded()
    {
        using var g = SetUp();
        ulong input = 0x0052 | Fast | 3UL << 17 | 5UL << 32 | 2UL << 48;
        Assert.Equal(2UL, g.CallHypercallPage(input));
        Assert.Equal(new HypercallInput(0x52, true, 3, 5, 2), g.Host.Hypercalls.LastInput);
    }

    [Fact]
    public void The_vtl_call_sequence_moves_rcx_to_rax_and_calls_with_the_vtl_call_code()
    {
        using var g = SetUp();
        // no VTL1 enabled: the sequence's VMCALL reaches the host as code 0x11 and is #UD there
        g.Cpu.Gpr[Processor.RCX] = 0x77;
        g.Execute(a =>
        {
            a.mov(AssemblerRegisters.r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlCallOffset);
            a.call(AssemblerRegisters.r11);
        }).AssertUd(VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlCallOffset + 8);
        Assert.Equal(HvCall.VtlCall, g.Host.Hypercalls.LastInput!.Value.Code);
        Assert.Equal((ulong)HvCall.VtlCall, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(0x77UL, g.Cpu.Gpr[Processor.RAX]);
    }

    [Theory]
    [InlineData(1UL << 27)]
    [InlineData(1UL << 31)]
    [InlineData(1UL << 44)]
    [InlineData(1UL << 47)]
    [InlineData(1UL << 60)]
    [InlineData(1UL << 63)]
    public void Reserved_input_bits_return_invalid_hypercall_input(ulong bit)
    {
        using var g = SetUp();
        Assert.Equal(3UL, g.CallHypercallPage(Unimplemented | bit, In, Out));
    }

    [Theory]
    [InlineData(0, 1)]     // a rep start without a rep count
    [InlineData(4, 4)]     // start not below the count
    public void A_rep_start_index_outside_the_rep_count_returns_invalid_hypercall_input(int count, int start)
    {
        using var g = SetUp();
        Assert.Equal(3UL, g.CallHypercallPage(Unimplemented | (ulong)count << 32 | (ulong)start << 48, In, Out));
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(0, 1)]
    [InlineData(0xFFF, 0)]
    public void A_misaligned_memory_form_gpa_returns_invalid_alignment(int inputOffset, int outputOffset)
    {
        using var g = SetUp();
        Assert.Equal(4UL, g.CallHypercallPage(Unimplemented, In + (ulong)inputOffset, Out + (ulong)outputOffset));
    }

    [Fact]
    public void A_fast_call_does_not_check_rdx_and_r8_as_addresses()
    {
        using var g = SetUp();
        Assert.Equal(2UL, g.CallHypercallPage(Unimplemented | Fast, 3, ulong.MaxValue));
    }

    [Theory]
    [InlineData(VsmGuestMachine.MemorySize, 0UL)]
    [InlineData(0UL, VsmGuestMachine.MemorySize + 8)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF8UL, 0UL)]
    public void A_memory_form_gpa_outside_ram_returns_invalid_parameter(ulong input, ulong output)
    {
        using var g = SetUp();
        Assert.Equal(5UL, g.CallHypercallPage(Unimplemented, input, output));
    }

    [Fact]
    public void Vmmcall_is_accepted_like_vmcall()
    {
        using var g = SetUp();
        g.Cpu.Gpr[Processor.RCX] = Unimplemented | Fast;
        g.Execute(a => a.vmmcall()).AssertCompleted();
        Assert.Equal(2UL, g.Cpu.Gpr[Processor.RAX]);
    }

    [Fact]
    public void Vmcall_before_the_hypercall_page_is_enabled_is_ud()
    {
        using var g = new VsmGuestMachine();
        g.Execute(a => a.vmcall()).AssertUd(VsmGuestMachine.Code);
        g.Wrmsr(HvMsr.GuestOsId, VsmGuestMachine.GuestOsId).AssertCompleted();
        g.Execute(a => a.vmcall()).AssertUd(VsmGuestMachine.Code);
        Assert.Equal(0L, g.Host.Hypercalls.Calls);
    }

    [Fact]
    public void Vmcall_at_cpl3_is_ud()
    {
        using var g = SetUp();
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RCX] = Unimplemented | Fast;
        g.Execute(a => a.vmcall(), VsmGuestMachine.UserCode).AssertUd(VsmGuestMachine.UserCode);
        Assert.Equal(0L, g.Host.Hypercalls.Calls);
    }

    [Fact]
    public void Vmcall_in_real_mode_is_ud()
    {
        using var vm = new VirtualMachine(1 << 20, _ => { });
        var host = new VsmHost(vm);
        var cpu = vm.Cpu;
        cpu.Reset();
        // the set-up done by the host's MSR interface directly (WRMSR works in real mode too)
        Assert.Equal(MsrResult.Handled, host.Msrs.Write(cpu, HvMsr.GuestOsId, 1));
        Assert.Equal(MsrResult.Handled, host.Msrs.Write(cpu, HvMsr.Hypercall, 0x8000 | 1));
        cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = 0x3000, Base = 0x30000, Limit = 0xFFFF, Attributes = 0x9B });
        cpu.Rip = 0;
        var a = new Assembler(16);
        a.vmcall();
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0);
        stream.ToArray().CopyTo(vm.Memory.Slice(0x30000, (int)stream.Length));
        cpu.FlushDecodeCache();
        Assert.Equal(StopReason.Exception, cpu.Run(1));
        Assert.Equal(GuestFault.InvalidOpcode, cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0L, host.Hypercalls.Calls);
    }

    [Fact]
    public void In_32_bit_protected_mode_the_input_is_edx_eax_the_gpas_ebx_ecx_and_edi_esi_and_the_result_edx_eax()
    {
        using var vm = new VirtualMachine(1 << 20, _ => { });
        var host = new VsmHost(vm);
        var cpu = vm.Cpu;
        cpu.EnterFlatProtectedMode();
        Assert.Equal(MsrResult.Handled, host.Msrs.Write(cpu, HvMsr.GuestOsId, 1));
        Assert.Equal(MsrResult.Handled, host.Msrs.Write(cpu, HvMsr.Hypercall, 0x8000 | 1));
        var a = new Assembler(32);
        a.vmcall();
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0x30000);
        stream.ToArray().CopyTo(vm.Memory.Slice(0x30000, (int)stream.Length));

        ulong Call(ulong input, ulong inputGpa, ulong outputGpa)
        {
            cpu.WriteGpr(Processor.RDX, input >> 32);
            cpu.WriteGpr(Processor.RAX, (uint)input);
            cpu.WriteGpr(Processor.RBX, inputGpa >> 32);
            cpu.WriteGpr(Processor.RCX, (uint)inputGpa);
            cpu.WriteGpr(Processor.RDI, outputGpa >> 32);
            cpu.WriteGpr(Processor.RSI, (uint)outputGpa);
            cpu.Rip = 0x30000;
            cpu.FlushDecodeCache();
            Assert.Equal(StopReason.InstructionLimit, cpu.Run(1));
            return cpu.ReadGpr(Processor.RDX) << 32 | (uint)cpu.ReadGpr(Processor.RAX);
        }

        Assert.Equal(2UL, Call(Unimplemented, 0x1000, 0x2000));
        Assert.Equal(4UL, Call(Unimplemented, 0x1004, 0x2000));
        Assert.Equal(4UL, Call(Unimplemented, 0x1000, 0x2002));
        Assert.Equal(5UL, Call(Unimplemented, 1UL << 32, 0x2000));
        Assert.Equal(3UL, Call(Unimplemented | 1UL << 44, 0x1000, 0x2000));
        Assert.Equal(2UL, Call(0x52 | Fast | 2UL << 32 | 1UL << 48, 3, 5));
        Assert.Equal(new HypercallInput(0x52, true, 0, 2, 1), host.Hypercalls.LastInput);
    }

    [Fact]
    public void The_result_packs_the_status_and_reps_completed()
    {
        Assert.Equal(0x0000_0ABC_0000_0005UL, HypercallInput.Result(HvStatus.InvalidParameter, 0xABC));
        // every defined field at its widest (rep count 0xFFF, start 0xFFE) is valid input
        ulong widest = 0xFFFF | Fast | 0x3FFUL << 17 | 0xFFFUL << 32 | 0xFFEUL << 48;
        Assert.Equal(HvStatus.Success, HypercallInput.TryDecode(widest, out _));
        Assert.Equal(0UL, widest & HvHypercallInput.ReservedMask);
        Assert.Equal(ulong.MaxValue, widest | 1UL << 48 | HvHypercallInput.ReservedMask);
    }
}
