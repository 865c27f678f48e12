using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm.Tests.Support;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests;

/// <summary>docs/vtl.md section 10: GetVpRegisters and SetVpRegisters, every status, state
/// privacy between VTLs, emulation by VTL1 and exceptions injected through PendingEvent0.</summary>
public sealed class VpRegisterTests
{
    private const ulong In = VsmGuestMachine.InputPage, Out = VsmGuestMachine.OutputPage;
    private const ulong Data = 0x150000;
    private const byte Vtl0 = HvInputVtl.UseTargetVtl;

    private static ulong Get(VsmGuestMachine g, byte inputVtl, params uint[] names)
    {
        Vtl1Session.WriteGet(g, In, inputVtl, names);
        g.Vm.Memory.Slice(Out, 16 * names.Length).Fill(0xEE);
        return g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, names.Length), In, Out);
    }

    private static ulong Set(VsmGuestMachine g, byte inputVtl, params (uint, UInt128)[] registers)
    {
        Vtl1Session.WriteSet(g, In, inputVtl, registers);
        return g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, registers.Length), In, Out);
    }

    private static ulong Value(VsmGuestMachine g, int index) => g.ReadU64(Out + (ulong)index * 16);

    private static UInt128 Value128(VsmGuestMachine g, int index) => BinaryPrimitives.ReadUInt128LittleEndian(g.Vm.Memory.Slice(Out + (ulong)index * 16, 16));

    [Fact]
    public void Vtl1_reads_vtl0s_saved_registers_and_its_own_live_ones()
    {
        using var g = new VsmGuestMachine();
        ulong vtl0Cr3 = g.Cpu.Cr3, vtl0Cr4 = g.Cpu.Cr4, vtl0Efer = g.Cpu.Efer;
        var gdtr = g.Cpu.Gdtr;
        Vtl1Session.Start(g, _ => { });
        var vtl0 = g.Host.Partition.Vps[0].Saved(0)!;

        Assert.Equal(7UL << 32, Get(g, Vtl0, HvRegister.Rip, HvRegister.Cr3, HvRegister.Cr4, HvRegister.Efer, HvRegister.Gdtr, HvRegister.Cs, HvRegister.Rsp));
        Assert.Equal(vtl0.Rip, Value(g, 0));
        Assert.Equal(vtl0Cr3, Value(g, 1));
        Assert.Equal(vtl0Cr4, Value(g, 2));
        Assert.Equal(vtl0Efer, Value(g, 3));
        Assert.Equal(((UInt128)gdtr.Base << 64) | ((UInt128)gdtr.Limit << 48), Value128(g, 4));
        Assert.Equal(((UInt128)0x08 << 96) | ((UInt128)vtl0.Segments[Processor.CS].Attributes << 112) | ((UInt128)vtl0.Segments[Processor.CS].Limit << 64), Value128(g, 5));
        Assert.Equal(vtl0.Rsp, Value(g, 6));

        // without the use-target bit: VTL1's own registers, live
        Assert.Equal(3UL << 32, Get(g, 0, HvRegister.Cr3, HvRegister.VsmVpStatus, HvRegister.VsmPartitionStatus));
        Assert.Equal(VtlGuest.Vtl1Pml4, Value(g, 0));
        Assert.Equal(1UL | 3UL << 16, Value(g, 1));
        Assert.Equal(3UL | 1UL << 16, Value(g, 2));
    }

    [Fact]
    public void Vtl0_reads_its_own_registers_but_never_vtl1s()
    {
        using var g = new VsmGuestMachine();
        VtlGuest.EnableVtl1(g, a => a.hlt());
        Assert.Equal(3UL << 32, Get(g, 0, HvRegister.Cr3, HvRegister.VsmVpStatus, HvRegister.VsmCodePageOffsets));
        Assert.Equal(g.Cpu.Cr3, Value(g, 0));
        Assert.Equal(0UL | 3UL << 16, Value(g, 1));
        Assert.Equal(HvHypercallPage.VsmCodePageOffsets, Value(g, 2));

        Assert.Equal((ulong)HvStatus.AccessDenied, Get(g, HvInputVtl.UseTargetVtl | 1, HvRegister.Cr3));
        Assert.Equal(0xEEEE_EEEE_EEEE_EEEEUL, Value(g, 0));
        Assert.Equal((ulong)HvStatus.AccessDenied, Get(g, HvInputVtl.UseTargetVtl | 1, HvRegister.Rip));
        // VTL1-only and lower-VTL-only registers do not exist for VTL0
        Assert.Equal((ulong)HvStatus.InvalidParameter, Get(g, 0, HvRegister.VsmPartitionConfig));
        Assert.Equal((ulong)HvStatus.InvalidParameter, Get(g, 0, HvRegister.PendingEvent0));
    }

    [Theory]
    [InlineData("vp index 1", HvStatus.InvalidVpIndex)]
    [InlineData("partition id", HvStatus.InvalidPartitionId)]
    [InlineData("reserved header byte", HvStatus.InvalidParameter)]
    [InlineData("input vtl reserved bit", HvStatus.InvalidParameter)]
    [InlineData("target vtl 3", HvStatus.InvalidParameter)]
    public void Get_checks_its_header(string field, ushort status)
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Vtl1Session.WriteGet(g, In, 0, HvRegister.Cr3);
        var b = g.Vm.Memory.Slice(In, 16);
        switch (field)
        {
            case "vp index 1": BinaryPrimitives.WriteUInt32LittleEndian(b[HvVpRegisters.VpIndexOffset..], 1); break;
            case "partition id": BinaryPrimitives.WriteUInt64LittleEndian(b, 0); break;
            case "reserved header byte": b[14] = 1; break;
            case "input vtl reserved bit": b[HvVpRegisters.InputVtlOffset] = 0x40; break;
            case "target vtl 3": b[HvVpRegisters.InputVtlOffset] = HvInputVtl.UseTargetVtl | 3; break;
        }
        Assert.Equal((ulong)status, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1), In, Out));
    }

    [Fact]
    public void Bad_forms_and_counts_are_refused()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Vtl1Session.WriteGet(g, In, 0, HvRegister.Cr3);
        Assert.Equal((ulong)HvStatus.InvalidHypercallInput, g.CallHypercallPage(HvCall.GetVpRegisters, In, Out));
        Assert.Equal((ulong)HvStatus.InvalidHypercallInput, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1) | HvHypercallInput.Fast, In, Out));
        Assert.Equal((ulong)HvStatus.InvalidHypercallInput, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1) | 1UL << 17, In, Out));
        // 300 values do not fit in the output page; 1100 names do not fit in the input page
        Assert.Equal((ulong)HvStatus.InvalidAlignment, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 300), In, Out));
        Assert.Equal((ulong)HvStatus.InvalidAlignment, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 1100), In, Out));
        Assert.Equal((ulong)HvStatus.InvalidAlignment, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 200), In, Out));
    }

    [Fact]
    public void The_first_bad_element_stops_the_call_with_the_reps_completed()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Assert.Equal((ulong)HvStatus.InvalidParameter | 2UL << 32, Get(g, Vtl0, HvRegister.Cr3, HvRegister.Cr4, 0x00050005, HvRegister.Rip));
        Assert.Equal(g.Host.Partition.Vps[0].Saved(0)!.Cr3, Value(g, 0));
        Assert.Equal(0xEEEE_EEEE_EEEE_EEEEUL, Value(g, 2));
        Assert.Equal(0xEEEE_EEEE_EEEE_EEEEUL, Value(g, 3));
        // a rep start index: only the elements from it
        Vtl1Session.WriteGet(g, In, Vtl0, 0x12345678, HvRegister.Cr3);
        Assert.Equal(2UL << 32, g.CallHypercallPage(Vtl1Session.Rep(HvCall.GetVpRegisters, 2, start: 1), In, Out));
        Assert.Equal(g.Host.Partition.Vps[0].Saved(0)!.Cr3, Value(g, 1));
    }

    public static TheoryData<string, uint, UInt128> BadValues => new()
    {
        { "non-canonical RIP", HvRegister.Rip, 0x0000_8000_0000_0000UL },
        { "RIP above 64 bits", HvRegister.Rip, (UInt128)1 << 64 },
        { "RFLAGS reserved bit 3", HvRegister.Rflags, 0x0A },
        { "RFLAGS VM", HvRegister.Rflags, 0x20002 },
        { "CR0 clearing PG in long mode", HvRegister.Cr0, 0x0000_0011 },
        { "CR0 bit 32", HvRegister.Cr0, 0x1_8000_0011UL },
        { "CR4 without PAE in long mode", HvRegister.Cr4, 0 },
        { "CR3 bit 63", HvRegister.Cr3, 1UL << 63 },
        { "EFER clearing LMA", HvRegister.Efer, 0x100 },
        { "PAT type 2", HvRegister.Pat, 2 },
        { "XFEM without x87", HvRegister.Xfem, 2 },
        { "XFEM with AVX (the core has none)", HvRegister.Xfem, 7 },
        { "LSTAR non-canonical", HvRegister.Lstar, 0x0000_8000_0000_0000UL },
        { "SFMASK bit 32", HvRegister.Sfmask, 1UL << 32 },
        { "GDTR pad", HvRegister.Gdtr, 1 },
        { "CS with L and D", HvRegister.Cs, (UInt128)0x60_9B << 112 | (UInt128)0x08 << 96 },
        { "VP assist page (read-only here)", HvRegister.VpAssistPage, 0 },
        { "VsmVpStatus (read-only)", HvRegister.VsmVpStatus, 0 },
        { "a debug register (not offered)", 0x00050005, 0x400 },
        { "PendingEvent0 NMI", HvRegister.PendingEvent0, 1 | 2UL << 16 },
        { "PendingEvent0 vector 32", HvRegister.PendingEvent0, 1 | 32UL << 16 },
        { "PendingEvent0 type 1", HvRegister.PendingEvent0, 1 | 1 << 1 | 13UL << 16 },
        { "PendingEvent0 reserved bit 4", HvRegister.PendingEvent0, 1 | 1 << 4 | 13UL << 16 },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Values_hostsim_could_not_load_are_invalid_parameter_and_change_nothing(string what, uint name, UInt128 value)
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        var before = Snapshot(g.Host.Partition.Vps[0].Saved(0)!);
        Assert.Equal((ulong)HvStatus.InvalidParameter, Set(g, Vtl0, (name, value)));
        Assert.Equal(before, Snapshot(g.Host.Partition.Vps[0].Saved(0)!));
        Assert.Equal(UInt128.Zero, g.Host.Partition.Vps[0].PendingEvent(0));
        Assert.NotEmpty(what);
    }

    [Fact]
    public void Vtl1_sets_xcr0_under_xsetbvs_rules_and_reads_it_back()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Assert.Equal(1UL, g.Cpu.Xcr0);
        Assert.Equal(1UL << 32, Set(g, Vtl0, (HvRegister.Xfem, 3)));
        Assert.Equal(3UL, g.Cpu.Xcr0);
        Assert.Equal(1UL << 32, Get(g, Vtl0, HvRegister.Xfem));
        Assert.Equal(3UL, Value(g, 0));
        Assert.Equal((ulong)HvStatus.InvalidParameter, Set(g, Vtl0, (HvRegister.Xfem, 6)));
        Assert.Equal(3UL, g.Cpu.Xcr0);
    }

    [Fact]
    public void A_set_element_with_a_non_zero_pad_is_invalid_parameter()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        Vtl1Session.WriteSet(g, In, Vtl0, (HvRegister.Rip, 0x1234UL));
        g.Vm.Memory.Slice(In + 16 + 8, 1)[0] = 1;
        Assert.Equal((ulong)HvStatus.InvalidParameter, g.CallHypercallPage(Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, Out));
        Assert.NotEqual(0x1234UL, g.Host.Partition.Vps[0].Saved(0)!.Rip);
    }

    [Fact]
    public void Vtl1_emulates_a_refused_write_by_doing_it_and_advancing_vtl0s_rip()
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Data);
            a.mov(rdi, 0x77UL);
            a.mov(__qword_ptr[rsi], rdi);   // 3 bytes: 48 89 3E
            a.mov(r15d, 0x55);
        });
        s.Protect(HvMapGpa.Read | HvMapGpa.KernelExecute, Data >> 12);
        Assert.Equal(1, g.Host.CurrentVtl);
        ulong rip = s.Vtl0Rip;
        Assert.Equal([0x48, 0x89, 0x3E], s.Payload.Slice(HvMessage.GpaInstructionBytes, 3).ToArray());
        Assert.Equal(0UL, g.ReadU64(Data));

        s.WriteSet(In, Vtl0, (HvRegister.Rip, rip + 3));
        var end = s.Answer(a =>
        {
            a.mov(rsi, Data);
            a.mov(__qword_ptr[rsi], rdi);   // the write, done by VTL1
            Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, 0, 3);
        });

        Assert.Equal(1UL << 32, s.Result(3));
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal(0x77UL, g.ReadU64(Data));
        Assert.Equal(0x55UL, g.Cpu.Gpr[15]);
        Assert.Equal(1L, g.Host.InterceptCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_exception_made_pending_by_vtl1_is_delivered_to_vtl0_when_it_resumes(bool pageFault)
    {
        using var g = new VsmGuestMachine();
        var s = Vtl1Session.Start(g, a =>
        {
            a.mov(rsi, Data);
            a.mov(__qword_ptr[rsi], rsi);
        });
        s.Protect(HvMapGpa.Read | HvMapGpa.KernelExecute, Data >> 12);
        ulong rip = s.Vtl0Rip;
        ulong rsp = g.Host.Partition.Vps[0].Saved(0)!.Rsp;
        byte vector = pageFault ? GuestFault.PageFault : GuestFault.GeneralProtection;
        uint error = pageFault ? 0x7u : 0x18u;
        UInt128 pending = 1 | HvPendingEvent.DeliverErrorCode | (ulong)vector << 16 | (ulong)error << 32 | (pageFault ? (UInt128)Data << 64 : 0);

        s.WriteSet(In, Vtl0, (HvRegister.PendingEvent0, pending));
        var end = s.Answer(a => Vtl1Session.Hypercall(a, Vtl1Session.Rep(HvCall.SetVpRegisters, 1), In, 0, 3));

        Assert.Equal(1UL << 32, s.Result(3));
        Assert.Equal(MachineStopKind.GuestExit, end.Kind);
        Assert.Equal(0, g.Host.CurrentVtl);
        Assert.Equal((uint)vector, g.Vm.DebugExit.Value);                       // VTL0's handler ran
        Assert.Equal(rsp - 48, g.Cpu.Gpr[Processor.RSP]);
        Assert.Equal(error, g.ReadU64(rsp - 48));
        Assert.Equal(rip, g.ReadU64(rsp - 40));                                   // the write, re-executed after IRET
        if (pageFault) Assert.Equal(Data, g.Cpu.Cr2);
        Assert.Equal(UInt128.Zero, g.Host.Partition.Vps[0].PendingEvent(0));
        Assert.Equal(0UL, g.ReadU64(Data));
        Assert.Equal(1L, g.Host.InjectedCount);
        Assert.Equal([(0, vector, error, rip)], g.Events.Injections);
    }

    [Fact]
    public void Vtl1_sets_its_own_rip_and_continues_there()
    {
        using var g = new VsmGuestMachine();
        Vtl1Session.Start(g, _ => { });
        const ulong target = 0x49000;
        g.Emit(target, a => { a.mov(r15d, 0x66); a.hlt(); });
        g.Cpu.Gpr[15] = 0;
        Vtl1Session.WriteSet(g, In, 0, (HvRegister.Rip, target));
        g.Cpu.Gpr[Processor.RCX] = Vtl1Session.Rep(HvCall.SetVpRegisters, 1);
        g.Cpu.Gpr[Processor.RDX] = In;
        var run = g.Execute(a =>
        {
            a.mov(r11, VsmGuestMachine.HypercallPageGpa);
            a.call(r11);
            a.mov(r15d, 0x99);
        });
        Assert.Equal(StopReason.Halted, run.Reason);
        Assert.Equal(0x66UL, g.Cpu.Gpr[15]);
        Assert.Equal(1UL << 32, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(1, g.Host.CurrentVtl);
        Assert.Equal((ulong)HvStatus.InvalidParameter, Set(g, 0, (HvRegister.PendingEvent0, 1 | 13UL << 16)));
    }

    private static string Snapshot(VtlPrivateState s) =>
        $"{s.Rip:x} {s.Rsp:x} {s.Rflags:x} {s.Cr0:x} {s.Cr3:x} {s.Cr4:x} {s.Efer:x} {s.Pat:x} {s.Lstar:x} {s.Sfmask:x} {s.Gdtr} {s.Segments[1]}";
}
