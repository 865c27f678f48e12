using HekiGuest.Abi;
using HekiGuest.HostSim.Vsm.Tests.Support;
using HekiGuest.Tests.Shared;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 7: VTL call and VTL return between VTL0 and VTL1 on one VP.</summary>
public sealed class VtlSwitchTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(HvVpAssist.VtlReturnFast)]
    public void A_vtl_call_runs_vtl1_with_its_own_state_and_the_return_resumes_vtl0_with_its_own(ulong control)
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => VtlGuest.Handler(a, control));
        ulong vtl0Cr3 = g.Cpu.Cr3, vtl0Rsp = g.Cpu.Gpr[Processor.RSP];
        Assert.Equal(0, g.Host.CurrentVtl);

        var run = g.Execute(VtlGuest.Caller);

        run.AssertCompleted();
        Assert.Equal(0, g.Host.CurrentVtl);
        // what VTL1 saw (shared registers): its own CR3, RIP and RSP, entry reason "VTL call"
        Assert.Equal(VtlGuest.Vtl1Pml4, g.Cpu.Gpr[Processor.RBX]);
        Assert.Equal(VtlGuest.Vtl1Code, g.Cpu.Gpr[Processor.RDI]);
        Assert.Equal(VtlGuest.Vtl1StackTop, g.Cpu.Gpr[Processor.RDX]);
        Assert.Equal((ulong)HvVpAssist.EntryReasonVtlCall, g.Cpu.Gpr[Processor.RSI]);
        // VTL1's change to a shared register is visible; VTL0's own state is back
        Assert.Equal(0x9999UL, g.Cpu.Gpr[9]);
        Assert.Equal(vtl0Cr3, g.Cpu.Cr3);
        Assert.Equal(vtl0Cr3, g.Cpu.Gpr[12]);
        Assert.InRange(g.Cpu.Gpr[13], VsmGuestMachine.Code, VsmGuestMachine.Code + 0x40);
        Assert.Equal(vtl0Rsp, g.Cpu.Gpr[Processor.RSP]);
        if (control == 0)
        {
            Assert.Equal(VtlGuest.ReturnRax, g.Cpu.Gpr[Processor.RAX]);
            Assert.Equal(VtlGuest.ReturnRcx, g.Cpu.Gpr[Processor.RCX]);
        }
        else
        {
            // fast: what the VTL-return sequence left (RAX = the control value, RCX = the call code)
            Assert.Equal(control, g.Cpu.Gpr[Processor.RAX]);
            Assert.Equal((ulong)HvCall.VtlReturn, g.Cpu.Gpr[Processor.RCX]);
        }
        // VTL1's private state is kept for the next call: it resumes after its VTL return
        var vtl1 = g.Host.Partition.Vps[0].Saved(1)!;
        Assert.Equal(VtlGuest.Vtl1Pml4, vtl1.Cr3);
        Assert.Equal(VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset + 11, vtl1.Rip);
        Assert.Equal(1L, g.Host.VtlEventCounts[VsmVtlEvent.VtlCall]);
        Assert.Equal(1L, g.Host.VtlEventCounts[VsmVtlEvent.VtlReturn]);
        Assert.Equal(
            [(VsmVtlEvent.PartitionVtlEnabled, 1), (VsmVtlEvent.VpVtlEnabled, 1), (VsmVtlEvent.VtlCall, 1), (VsmVtlEvent.VtlReturn, 0)],
            g.Events.VtlChanges);
    }

    [Fact]
    public void The_entry_reason_written_into_the_vp_assist_page_drops_code_decoded_from_that_page()
    {
        using var g = new VsmGuestMachine();
        // VTL1 only returns (fast): nothing but the host writes the assist page
        VtlGuest.EnableVtl1(g, a =>
        {
            a.mov(rcx, HvVpAssist.VtlReturnFast);
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
            a.hlt();
        });
        ulong callerEnd = g.Emit(VsmGuestMachine.Code, VtlGuest.Caller);   // emitted first: emitting drops decoded code
        // VTL0 code on the assist page: "mov eax, imm32" whose immediate is the entry-reason field
        ulong at = VsmGuestMachine.AssistPage + HvVpAssist.VtlEntryReasonOffset - 1;
        byte[] code = [0xB8, 0xAA, 0xBB, 0xCC, 0xDD];
        code.CopyTo(g.Vm.Memory.Slice(at, code.Length));
        g.Cpu.FlushDecodeCache();
        GuestRun.From(g.Vm, at, at + 5, 10).AssertCompleted();
        Assert.Equal(0xDDCC_BBAAUL, g.Cpu.Gpr[Processor.RAX] & 0xFFFF_FFFF);

        // the VTL call writes reason 1 there (a host write, not a guest store)
        GuestRun.From(g.Vm, VsmGuestMachine.Code, callerEnd, 100_000).AssertCompleted();
        Assert.Equal(1u, g.Vm.Memory.Slice(at + 1, 1)[0]);

        GuestRun.From(g.Vm, at, at + 5, 10).AssertCompleted();
        Assert.Equal((ulong)HvVpAssist.EntryReasonVtlCall, g.Cpu.Gpr[Processor.RAX]);
    }

    [Fact]
    public void A_second_vtl_call_resumes_vtl1_after_its_vtl_return()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(r14);
            a.mov(ecx, 1);
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
            a.jmp(loop);
        });
        g.Cpu.Gpr[14] = 0;
        g.Execute(a =>
        {
            VtlGuest.Caller(a);
            VtlGuest.Caller(a);
        }).AssertCompleted();
        Assert.Equal(2UL, g.Cpu.Gpr[14]);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void Private_msrs_written_in_vtl1_stay_in_vtl1_and_shared_ones_are_seen_by_vtl0()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a =>
        {
            a.mov(ecx, 0xC0000082);   // LSTAR: private
            a.mov(eax, 0x1234_5000);
            a.xor(edx, edx);
            a.wrmsr();
            a.mov(rax, 0x5555UL);
            a.mov(cr2, rax);          // CR2: shared
            a.mov(ecx, 1);
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
        });
        g.Cpu.Lstar = 0xAAAA_0000;
        g.Execute(VtlGuest.Caller).AssertCompleted();
        Assert.Equal(0xAAAA_0000UL, g.Cpu.Lstar);
        Assert.Equal(0x1234_5000UL, g.Host.Partition.Vps[0].Saved(1)!.Lstar);
        Assert.Equal(0x5555UL, g.Cpu.Cr2);
    }

    [Fact]
    public void Without_the_vp_assist_page_a_slow_return_leaves_rax_and_rcx_as_the_sequence_left_them()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a =>
        {
            a.xor(ecx, ecx);
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
        });
        // VTL1's own VP assist page off (VTL1's set: VTL0's MSR does not matter here)
        Assert.Equal(HekiGuest.HostSim.Cpu.MsrResult.Handled, g.Host.Msrs.WriteFromHost(HvVtl.MaxVtl, HvMsr.VpAssistPage, VsmGuestMachine.AssistPage));
        g.WriteU64(VsmGuestMachine.AssistPage + HvVpAssist.VtlEntryReasonOffset, 0);
        g.Execute(VtlGuest.Caller).AssertCompleted();
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal((ulong)HvCall.VtlReturn, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(0UL, g.ReadU64(VsmGuestMachine.AssistPage + HvVpAssist.VtlEntryReasonOffset));
    }

    [Fact]
    public void Vtl0_moving_its_vp_assist_page_does_not_move_vtl1s()
    {
        // the synthetic MSRs are per VTL: VTL0 pointing VP_ASSIST_PAGE at a page of its own
        // choosing changes its own set only; the host keeps writing VTL1's entry reason into
        // VTL1's page and reading the return values from there
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => VtlGuest.Handler(a, 0));
        const ulong Decoy = VsmGuestMachine.AssistPage + 0x1000;
        g.Wrmsr(HvMsr.VpAssistPage, Decoy | HvMsr.Enable).AssertCompleted();
        Assert.Equal(Decoy | HvMsr.Enable, g.Rdmsr(HvMsr.VpAssistPage));
        g.WriteU64(Decoy + HvVpAssist.VtlEntryReasonOffset, 0x77);
        g.Execute(VtlGuest.Caller).AssertCompleted();
        Assert.Equal((ulong)HvVpAssist.EntryReasonVtlCall, g.ReadU64(VsmGuestMachine.AssistPage + HvVpAssist.VtlEntryReasonOffset) & 0xFFFF_FFFF);
        Assert.Equal(0x77UL, g.ReadU64(Decoy + HvVpAssist.VtlEntryReasonOffset));
        Assert.Equal(VtlGuest.ReturnRax, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(VsmGuestMachine.AssistPage | HvMsr.Enable, g.Host.Msrs.VpAssistPageMsr(HvVtl.MaxVtl));
        Assert.Equal(Decoy | HvMsr.Enable, g.Host.Msrs.VpAssistPageMsr(0));
    }

    [Fact]
    public void Vtl1_has_no_hypercalls_until_it_enables_its_own_hypercall_page()
    {
        // VTL0's hypercall page does not enable hypercalls for VTL1: a VTL1 that has not set its
        // own guest OS id and HYPERCALL MSR gets #UD from VMCALL, like a guest without the page
        using var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        g.WriteU64(VtlGuest.Vtl1Pml4, VsmGuestMachine.Pdpt | 7);
        g.Emit(VtlGuest.Vtl1Code, a =>
        {
            a.mov(ecx, (uint)HvCall.VtlReturn);
            a.vmcall();
            a.hlt();
        });
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        Assert.Equal(0UL, VtlGuest.EnableVpVtl(g));
        Assert.Equal(0UL, g.Host.Msrs.HypercallMsr(HvVtl.MaxVtl));
        Assert.True(g.Host.Msrs.HypercallsEnabled(0));
        Assert.False(g.Host.Msrs.HypercallsEnabled(HvVtl.MaxVtl));
        g.Execute(VtlGuest.Caller).AssertUd(VtlGuest.Vtl1Code + 5);
        Assert.Equal(1, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_vtl_call_with_no_vtl1_enabled_is_ud()
    {
        using var g = new VsmGuestMachine();
        g.SetUpHypercalls();
        AssertUdInSequence(g, HvHypercallPage.VtlCallOffset);
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g));
        // the partition alone is not enough: the VP's VTL1 is not enabled
        AssertUdInSequence(g, HvHypercallPage.VtlCallOffset);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_vtl_return_from_vtl0_is_ud()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => a.hlt());
        AssertUdInSequence(g, HvHypercallPage.VtlReturnOffset);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_vtl_return_with_reserved_control_bits_is_ud()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a =>
        {
            a.mov(ecx, 2);
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
        });
        var run = g.Execute(VtlGuest.Caller);
        run.AssertUd(VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset + 8);
        Assert.Equal(1, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_vtl_call_at_cpl3_is_ud()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => a.hlt());
        g.EnterUserMode();
        g.Cpu.Gpr[Processor.RCX] = HvCall.VtlCall;
        g.Execute(a => a.vmcall(), VsmGuestMachine.UserCode).AssertUd(VsmGuestMachine.UserCode);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void The_vtl_call_code_with_other_input_fields_is_ud()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => a.hlt());
        g.Cpu.Gpr[Processor.RCX] = HvCall.VtlCall | 1UL << 16;
        g.Execute(a => a.vmcall()).AssertUd(VsmGuestMachine.Code);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_vm_reset_returns_to_vtl0_only()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => a.hlt());
        g.Host.Reset();
        Assert.False(g.Host.Partition.IsEnabled(1));
        Assert.False(g.Host.Partition.Vps[0].IsEnabled(1));
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    private static void AssertUdInSequence(VsmGuestMachine g, uint offset)
    {
        g.Cpu.Gpr[Processor.RCX] = 0;
        g.Execute(a =>
        {
            a.mov(r11, VsmGuestMachine.HypercallPageGpa + offset);
            a.call(r11);
        }).AssertUd(VsmGuestMachine.HypercallPageGpa + offset + 8);
        // the faulting CALL pushed a return address: put the stack back
        g.Cpu.Gpr[Processor.RSP] = VsmGuestMachine.StackTop;
    }
}
