using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md sections 9 and 11: VTL1's protections of VTL0's memory, enforced on every
/// page a VTL0 access touches, and the secure intercept a violation becomes.</summary>
public sealed class VtlProtectionTests
{
    private const ulong Secret = 0x44000;   // a VTL1 page (VTL1's region is 0x40000-0x60000)
    private const ulong Data = 0x150000;    // an ordinary VTL0 page
    private const uint R = HvMapGpa.Read, W = HvMapGpa.Write, X = HvMapGpa.KernelExecute, UX = HvMapGpa.UserExecute;

    [Fact]
    public void A_vtl0_read_of_a_page_vtl1_hid_is_not_done_and_reaches_vtl1_as_a_gpa_intercept()
    {
        using var g = new VsmGuestMachine();
        g.WriteU64(Secret, 0x5EC2E7);
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Secret);
            a.mov(rbx, __qword_ptr[rsi]);
        });
        ulong load = s.Body + 10;   // after "mov rsi, imm64"
        g.Cpu.Gpr[Processor.RBX] = 0;

        s.Protect(HvMapGpa.None, Secret >> 12);

        // VTL1 was entered for the intercept; VTL0 did not get the value and waits on the instruction
        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RBX]);
        Assert.Equal(HvVpAssist.EntryReasonIntercept, s.EntryReason);
        Assert.Equal(load, s.Vtl0Rip);
        var m = s.Message;
        var p = s.Payload;
        Assert.Equal(HvMessage.TypeGpaIntercept, BinaryPrimitives.ReadUInt32LittleEndian(m));
        Assert.Equal(HvMessage.GpaSize, m[HvMessage.PayloadSizeOffset]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(p[HvMessage.HeaderVpIndex..]));
        Assert.Equal(HvMessage.AccessRead, p[HvMessage.HeaderAccessType]);
        Assert.Equal(3, p[HvMessage.HeaderInstructionLength] & 0xF);
        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(p[HvMessage.HeaderExecutionState..]);
        Assert.Equal(HvMessage.StateCr0Pe | HvMessage.StateEferLma, state);   // CPL 0, VTL 0
        Assert.Equal(load, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.HeaderRip..]));
        Assert.Equal((ushort)0x08, BinaryPrimitives.ReadUInt16LittleEndian(p[(HvMessage.HeaderCs + HvVtl.SegmentSelector)..]));
        Assert.Equal(HvMessage.CacheTypeWriteBack, BinaryPrimitives.ReadUInt32LittleEndian(p[HvMessage.GpaCacheType..]));
        Assert.Equal(HvMessage.AccessInfoGvaValid | HvMessage.AccessInfoGvaGpaValid, p[HvMessage.GpaAccessInfo]);
        Assert.Equal(Secret, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGva..]));
        Assert.Equal(Secret, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGpa..]));
        Assert.Equal(16, p[HvMessage.GpaInstructionByteCount]);
        Assert.Equal([0x48, 0x8B, 0x1E], p.Slice(HvMessage.GpaInstructionBytes, 3).ToArray());   // mov rbx, [rsi]
        Assert.Equal(1L, g.Host.InterceptCount);

        // VTL1 answers by giving the page back: VTL0 re-executes the load and finishes
        var end = s.Reprotect(R | W, Secret >> 12);
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(Vtl1Session.Vtl0Done, g.Vm.DebugExit.Value);
        Assert.Equal(0x5EC2E7UL, g.Cpu.Gpr[Processor.RBX]);
        Assert.Equal(1L, g.Host.InterceptCount);
    }

    [Fact]
    public void A_vtl0_write_to_a_read_only_page_is_intercepted_and_memory_keeps_its_value_until_vtl1_allows_it()
    {
        using var g = new VsmGuestMachine();
        g.WriteU64(Data, 1);
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Data);
            a.mov(__qword_ptr[rsi], rsi);
        });
        s.Protect(R | X, Data >> 12);

        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvMessage.AccessWrite, s.Payload[HvMessage.HeaderAccessType]);
        Assert.Equal(Data, BinaryPrimitives.ReadUInt64LittleEndian(s.Payload[HvMessage.GpaGpa..]));
        Assert.Equal(1UL, g.ReadU64(Data));

        // VTL1 returns without changing anything: VTL0 re-executes and is intercepted again
        s.Answer(_ => { });
        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(2L, g.Host.InterceptCount);
        Assert.Equal(1UL, g.ReadU64(Data));

        s.Reprotect(R | W | X, Data >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(Data, g.ReadU64(Data));
    }

    [Fact]
    public void A_fetch_from_a_page_that_lost_execute_is_intercepted_even_when_its_code_is_cached()
    {
        using var g = new VsmGuestMachine();
        const ulong fn = 0x160000;
        g.Emit(fn, a => { a.inc(r14); a.ret(); });
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(r13, fn);
            a.call(r13);               // runs (decoded and cached) while it may
            Vtl1Session.VtlCall(a);    // VTL1 removes execute
            a.call(r13);
        });
        g.Cpu.Gpr[14] = 0;
        s.Protect(R | W | X, Data >> 12);
        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvVpAssist.EntryReasonVtlCall, s.EntryReason);
        Assert.Equal(1UL, g.Cpu.Gpr[14]);

        s.Reprotect(R | W, fn >> 12);

        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal(HvVpAssist.EntryReasonIntercept, s.EntryReason);
        Assert.Equal(1UL, g.Cpu.Gpr[14]);
        Assert.Equal(fn, s.Vtl0Rip);
        var p = s.Payload;
        Assert.Equal(HvMessage.AccessExecute, p[HvMessage.HeaderAccessType]);
        Assert.Equal(fn, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGpa..]));
        Assert.Equal(fn, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.HeaderRip..]));
        Assert.Equal(0, p[HvMessage.GpaInstructionByteCount]);
        Assert.Equal(0, p[HvMessage.HeaderInstructionLength]);

        s.Reprotect(R | X, fn >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(2UL, g.Cpu.Gpr[14]);
    }

    [Fact]
    public void Page_walk_reads_of_a_hidden_page_table_are_intercepted_as_reads_of_the_entry()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Data);
            a.mov(rbx, __qword_ptr[rsi]);
        });
        s.Protect(HvMapGpa.None, VsmGuestMachine.Pd >> 12);

        Assert.Equal(1, g.Host.CurrentVtl);
        var p = s.Payload;
        Assert.Equal(HvMessage.AccessRead, p[HvMessage.HeaderAccessType]);
        // the walk's first refused read: the PD entry (PML4 and PDPT pages are readable)
        Assert.Equal(VsmGuestMachine.Pd, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGpa..]) & ~0xFFFUL);
        Assert.Equal(HvMessage.AccessInfoGvaValid, p[HvMessage.GpaAccessInfo]);   // the GVA does not map to that GPA
        Assert.Equal(HvVpAssist.EntryReasonIntercept, s.EntryReason);
        s.Reprotect(R, VsmGuestMachine.Pd >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
    }

    [Fact]
    public void A_dirty_bit_update_in_a_read_only_page_table_is_intercepted_as_a_write_and_the_entry_is_unchanged()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Data);
            a.mov(__qword_ptr[rsi], rsi);
        });
        // VTL0's 0-2 MiB entry with accessed set and dirty clear: the write must set D
        g.WriteU64(VsmGuestMachine.Pd, 0x83 | 0x20);
        s.Protect(R, VsmGuestMachine.Pd >> 12);

        Assert.Equal(1, g.Host.CurrentVtl);
        var p = s.Payload;
        Assert.Equal(HvMessage.AccessWrite, p[HvMessage.HeaderAccessType]);
        Assert.Equal(VsmGuestMachine.Pd, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGpa..]));
        Assert.Equal(Data, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGva..]));
        Assert.Equal(0x83UL | 0x20, g.ReadU64(VsmGuestMachine.Pd));
        Assert.Equal(0UL, g.ReadU64(Data));

        s.Reprotect(R | W, VsmGuestMachine.Pd >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(0x83UL | 0x60, g.ReadU64(VsmGuestMachine.Pd));
        Assert.Equal(Data, g.ReadU64(Data));
    }

    [Fact]
    public void An_exception_frame_pushed_onto_a_read_only_stack_is_intercepted_and_delivered_once_vtl1_allows_it()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a => a.ud2());
        ulong stackPage = (VsmGuestMachine.StackTop - 8) & ~0xFFFUL;
        ulong ud2 = s.Body;
        ulong ripSlot = VsmGuestMachine.StackTop - 40;
        ulong before = g.ReadU64(ripSlot);
        Assert.NotEqual(ud2, before);
        s.Protect(R, stackPage >> 12);

        Assert.Equal(1, g.Host.CurrentVtl);
        var p = s.Payload;
        Assert.Equal(HvMessage.AccessWrite, p[HvMessage.HeaderAccessType]);
        Assert.Equal(stackPage, BinaryPrimitives.ReadUInt64LittleEndian(p[HvMessage.GpaGpa..]) & ~0xFFFUL);
        Assert.Equal(ud2, s.Vtl0Rip);   // the faulting instruction, which raises #UD again on return
        Assert.Equal(before, g.ReadU64(ripSlot));   // nothing was pushed

        var end = s.Reprotect(R | W, stackPage >> 12);
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal((uint)GuestFault.InvalidOpcode, g.Vm.DebugExit.Value);   // VTL0's #UD handler ran
        Assert.Equal(ripSlot, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal(ud2, g.ReadU64(ripSlot));                                // with the frame of the ud2
    }

    [Fact]
    public void Vtl1s_own_accesses_are_never_restricted()
    {
        using var g = new VsmGuestMachine();
        g.WriteU64(Secret, 77);
        var s = Vtl1Session.Start(g, _ => { });
        s.Protect(HvMapGpa.None, Secret >> 12, (Vtl1Session.Snippet >> 12), Vtl1Session.Results >> 12);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(0L, g.Host.InterceptCount);
        Assert.Equal(HvMapGpa.None, g.Host.Partition.Vtl0Protections.MaskOf(Secret));
    }

    [Theory]
    [InlineData(false, 0, R | W | UX, true)]    // no MBEC: kernel-execute governs CPL 0 ...
    [InlineData(false, 3, R | W | UX, true)]    // ... and CPL 3; user-execute has no effect
    [InlineData(false, 3, R | W | X, false)]
    [InlineData(true, 0, R | W | X, false)]     // MBEC: CPL 0 needs kernel-execute
    [InlineData(true, 0, R | W | UX, true)]
    [InlineData(true, 3, R | W | X, true)]      // MBEC: CPL 3 needs user-execute
    [InlineData(true, 3, R | W | UX, false)]
    public void With_mbec_user_execute_governs_cpl3_fetches_and_without_it_kernel_execute_governs_all(bool mbec, int cpl, uint mask, bool intercepted)
    {
        using var g = new VsmGuestMachine();
        const ulong user = VsmGuestMachine.UserCode, kernel = 0x160000;
        ulong target = cpl == 3 ? user : kernel;
        g.Emit(user, a => { a.inc(r14); a.mov(al, 0x55); a.@out(0xF4, al); a.hlt(); });
        g.Emit(kernel, a => { a.inc(r14); a.ret(); });
        var s = Vtl1Session.Start(g, a =>
        {
            if (cpl == 3)
            {
                // IRETQ to the user code
                a.push(0x1B);
                a.mov(r13, VsmGuestMachine.UserStackTop);
                a.push(r13);
                a.push(0x202);
                a.push(0x23);
                a.mov(r13, user);
                a.push(r13);
                a.iretq();
            }
            else
            {
                a.mov(r13, kernel);
                a.call(r13);
            }
        }, partitionFlags: mbec ? HvVtl.EnableMbec : (byte)0);
        g.Cpu.Gpr[14] = 0;

        s.Protect(mask, target >> 12);

        Assert.Equal(intercepted ? 1 : 0, g.Host.CurrentVtl);
        if (intercepted)
        {
            Assert.Equal(HvMessage.AccessExecute, s.Payload[HvMessage.HeaderAccessType]);
            Assert.Equal(target, BinaryPrimitives.ReadUInt64LittleEndian(s.Payload[HvMessage.GpaGpa..]));
            Assert.Equal((ushort)cpl, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(s.Payload[HvMessage.HeaderExecutionState..]) & 3));
            Assert.Equal(0UL, g.Cpu.Gpr[14]);
        }
        else
        {
            Assert.Equal(1UL, g.Cpu.Gpr[14]);
        }
    }
}
