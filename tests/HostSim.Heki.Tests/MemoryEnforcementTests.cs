using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.Tests.Shared;
using HekiGuest.HostSim.Machine.Execution;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// Enforcement of PROTECT_MEMORY permissions (docs/abi.md section 4): every guest access is
/// checked on the guest-physical page after the guest's walk; a denied one does not happen and
/// is #PF with CR2 = the linear address and P, W, U, I/D plus bit 31.
/// </summary>
public sealed class MemoryEnforcementTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong P = 0x150000;                     // kernel data page
    private const ulong U = HekiGuestMachine.UserData;    // user data page
    private const ulong Marker = 0x0123_4567_89AB_CDEF;

    private static void AssertMemoryDenial(HekiGuestMachine g, ulong gva, ulong gpa, AccessKind access, ulong rip)
    {
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.Memory, d.Kind);
        Assert.Equal(gva, d.Gva);
        Assert.Equal(gpa, d.Gpa);
        Assert.Equal(access, d.Access);
        Assert.Equal(rip, d.Rip);
        Assert.Equal(HekiHost.Vcpu, d.Vcpu);
    }

    private static GuestRun Store(HekiGuestMachine g, ulong linear, ulong at = Code)
    {
        g.Cpu.Gpr[Processor.RBX] = linear;
        g.Cpu.Gpr[Processor.RAX] = 0xFFFF_FFFF_FFFF_FFFF;
        return g.Execute(a => a.mov(__qword_ptr[rbx], rax), at);
    }

    private static GuestRun Load(HekiGuestMachine g, ulong linear, ulong at = Code)
    {
        g.Cpu.Gpr[Processor.RBX] = linear;
        g.Cpu.Gpr[Processor.RAX] = 0;
        return g.Execute(a => a.mov(rax, __qword_ptr[rbx]), at);
    }

    [Theory]
    [InlineData(R)]
    [InlineData(R | X)]
    [InlineData(0UL)]
    [InlineData(R | Immutable)]
    public void A_kernel_write_to_a_page_without_write_is_pf_p_w_bit31_and_memory_stays(ulong permissions)
    {
        using var g = new HekiGuestMachine();
        g.WriteU64(P + 0x10, Marker);
        Assert.Equal(0, g.ProtectMemory((P, 1, permissions)));

        var fault = Store(g, P + 0x10).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(P + 0x10, fault.Cr2);
        Assert.Equal(P + 0x10, g.Cpu.Cr2);
        Assert.Equal(PfP | PfW | PfHost, fault.ErrorCode);
        Assert.Equal(Marker, g.ReadU64(P + 0x10));
        AssertMemoryDenial(g, P + 0x10, P + 0x10, AccessKind.Write, Code);
    }

    [Fact]
    public void A_user_write_to_a_page_without_write_adds_u()
    {
        using var g = new HekiGuestMachine();
        g.WriteU64(U + 8, Marker);
        Assert.Equal(0, g.ProtectMemory((U, 1, R)));
        g.EnterUserMode();
        var fault = Store(g, U + 8, HekiGuestMachine.UserCode).AssertFault(GuestFault.PageFault, HekiGuestMachine.UserCode);
        Assert.Equal(PfP | PfW | PfU | PfHost, fault.ErrorCode);
        Assert.Equal(U + 8, fault.Cr2);
        Assert.Equal(Marker, g.ReadU64(U + 8));
        AssertMemoryDenial(g, U + 8, U + 8, AccessKind.Write, HekiGuestMachine.UserCode);
    }

    [Theory]
    [InlineData(W, false)]
    [InlineData(X, false)]
    [InlineData(0UL, false)]
    [InlineData(W, true)]
    public void A_read_of_a_page_without_read_is_pf_p_bit31(ulong permissions, bool user)
    {
        using var g = new HekiGuestMachine();
        ulong page = user ? U : P;
        ulong at = user ? HekiGuestMachine.UserCode : Code;
        Assert.Equal(0, g.ProtectMemory((page, 1, permissions)));
        if (user) g.EnterUserMode();

        var fault = Load(g, page + 0x18, at).AssertFault(GuestFault.PageFault, at);

        Assert.Equal(page + 0x18, fault.Cr2);
        Assert.Equal(PfP | PfHost | (user ? PfU : 0), fault.ErrorCode);
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);
        AssertMemoryDenial(g, page + 0x18, page + 0x18, AccessKind.Read, at);
    }

    [Theory]
    [InlineData(R | W, false)]
    [InlineData(R, false)]
    [InlineData(0UL, false)]
    [InlineData(R | W | Immutable, false)]
    [InlineData(R | W, true)]
    public void A_fetch_from_a_page_without_exec_is_pf_id_p_bit31_at_the_fetched_address(ulong permissions, bool user)
    {
        using var g = new HekiGuestMachine();
        ulong target = user ? HekiGuestMachine.UserCode + 0x3000 : 0x160000;
        ulong from = user ? HekiGuestMachine.UserCode : Code;
        g.Emit(target, a => a.nop());
        Assert.Equal(0, g.ProtectMemory((target, 1, permissions)));
        if (user) g.EnterUserMode();
        g.Cpu.Gpr[Processor.RBX] = target;

        var fault = g.Execute(a => a.jmp(rbx), from).AssertFault(GuestFault.PageFault, target);

        Assert.Equal(target, fault.Cr2);
        Assert.Equal(PfId | PfP | PfHost | (user ? PfU : 0), fault.ErrorCode);
        AssertMemoryDenial(g, target, target, AccessKind.Execute, target);
    }

    [Fact]
    public void Protecting_the_page_being_executed_without_exec_stops_the_very_next_fetch()
    {
        using var g = new HekiGuestMachine();
        g.WriteRanges(HekiGuestMachine.RangeArray, (Code, 1, R | W));
        g.Cpu.Gpr[Processor.RAX] = ProtectMemory;
        g.Cpu.Gpr[Processor.RBX] = HekiGuestMachine.RangeArray;
        g.Cpu.Gpr[Processor.RCX] = 1;
        g.Cpu.Gpr[Processor.RDX] = 0;
        var run = g.Execute(a => { a.vmcall(); a.nop(); });
        var fault = run.AssertFault(GuestFault.PageFault, Code + 3);
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(PfId | PfP | PfHost, fault.ErrorCode);
        Assert.Equal(Code + 3, fault.Cr2);
    }

    [Fact]
    public void Execute_only_code_runs_fetches_need_exec_not_read()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((Code, 1, X)));
        g.Cpu.Gpr[Processor.RAX] = 1;
        g.Execute(a => { a.add(rax, 41); a.nop(); a.shl(rax, 1); }).AssertCompleted();
        Assert.Equal(84UL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Allowed_accesses_go_through_and_pages_never_named_keep_all_rights()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((P, 1, R), (P + 0x2000, 1, W), (0x160000, 1, X)));
        g.WriteU64(P + 8, Marker);

        Load(g, P + 8).AssertCompleted();                                  // R page: read fine
        Assert.Equal(Marker, g.Cpu.Gpr[Processor.RAX]);
        Store(g, P + 0x2008).AssertCompleted();                            // W page: write fine
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, g.ReadU64(P + 0x2008));
        Store(g, P + 0x1000).AssertCompleted();                            // never named, between them
        Load(g, P + 0x1000).AssertCompleted();
        Store(g, P - 8).AssertCompleted();
        g.Emit(P + 0x3000, a => a.nop());                                  // never named: executable
        g.RunFrom(P + 0x3000, P + 0x3001).AssertCompleted();
        g.Emit(0x160000, a => a.nop());
        g.RunFrom(0x160000, 0x160001).AssertCompleted();                   // X page: runs
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void A_write_straddling_into_a_protected_page_does_not_happen_at_all()
    {
        using var g = new HekiGuestMachine();
        g.WriteU64(P - 8, Marker);
        g.WriteU64(P, Marker);
        Assert.Equal(0, g.ProtectMemory((P, 1, R)));
        var fault = Store(g, P - 4).AssertFault(GuestFault.PageFault, Code);
        Assert.Equal(P, fault.Cr2);                                        // the first byte on the refused page
        Assert.Equal(PfP | PfW | PfHost, fault.ErrorCode);
        Assert.Equal(Marker, g.ReadU64(P - 8));                            // the allowed half was not written either
        Assert.Equal(Marker, g.ReadU64(P));
        AssertMemoryDenial(g, P, P, AccessKind.Write, Code);
    }

    [Fact]
    public void Permissions_apply_to_the_guest_physical_page_whatever_the_guest_page_tables_say()
    {
        using var g = new HekiGuestMachine();
        const ulong alias = HekiGuestMachine.AliasBase + 0x5000;          // linear alias of P
        const ulong other = HekiGuestMachine.AliasBase + 0x6000;          // linear alias of P + 0x1000
        g.MapAlias(alias, P, flags: 7);                                    // writable, user, present
        g.MapAlias(other, P + 0x1000, flags: 7);
        g.WriteU64(P + 0x20, Marker);
        Assert.Equal(0, g.ProtectMemory((P, 1, R)));

        var fault = Store(g, alias + 0x20).AssertFault(GuestFault.PageFault, Code);
        Assert.Equal(alias + 0x20, fault.Cr2);
        Assert.Equal(PfP | PfW | PfHost, fault.ErrorCode);
        Assert.Equal(Marker, g.ReadU64(P + 0x20));
        AssertMemoryDenial(g, alias + 0x20, P + 0x20, AccessKind.Write, Code);

        Load(g, alias + 0x20).AssertCompleted();                           // reading through the alias is allowed
        Assert.Equal(Marker, g.Cpu.Gpr[Processor.RAX]);
        Store(g, other + 0x20).AssertCompleted();                          // another physical page: not protected
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, g.ReadU64(P + 0x1020));
        Store(g, P + 0x20).AssertFault(GuestFault.PageFault, Code);       // and the identity view is refused too
        Assert.Equal(2, g.Events.Denials.Count);
    }

    [Fact]
    public void A_linear_page_whose_identity_frame_is_protected_is_fine_when_it_maps_elsewhere()
    {
        using var g = new HekiGuestMachine();
        // Linear 0x400000+0x7000 maps to physical 0x170000; protect the frame the linear address
        // would have named were it identity-mapped within memory (0x7000), not the real one.
        const ulong linear = HekiGuestMachine.AliasBase + 0x7000;
        g.MapAlias(linear, 0x170000);
        Assert.Equal(0, g.ProtectMemory((0x7000, 1, 0)));
        Store(g, linear).AssertCompleted();
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, g.ReadU64(0x170000));
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Host_peeks_are_not_checked_and_produce_no_denial()
    {
        using var g = new HekiGuestMachine();
        g.WriteU64(P, Marker);
        Assert.Equal(0, g.ProtectMemory((P, 1, 0)));
        var bytes = new byte[8];
        Assert.Equal(8, g.Vm.PeekLinear(P, bytes));
        Assert.Equal(Marker, BitConverter.ToUInt64(bytes));
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Tracing_execute_only_code_peeks_at_it_without_denials()
    {
        using var g = new HekiGuestMachine();
        g.HandlersExitWithTheirVector();
        Assert.Equal(0, g.ProtectMemory((Code, 1, X)));                   // (its VMCALL runs at Code: emit after it)
        g.Emit(Code, a => { a.nop(); a.nop(); a.mov(al, 0x42); a.@out(0xF4, al); });
        var trace = new CountingTrace();
        g.Vm.Trace = trace;
        g.Cpu.Rip = Code;
        var outcome = g.Vm.Run(new RunLimits(null, 1000));
        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal(0x42u, g.Vm.DebugExit.Value);
        Assert.True(trace.Instructions >= 4);
        Assert.Empty(g.Events.Denials);
    }

    private sealed class CountingTrace : ITraceSink
    {
        public int Instructions { get; private set; }

        public void Instruction(long index, ulong rip, int cpl, int bitness, ReadOnlySpan<byte> bytes)
        {
            Assert.NotEqual(0, bytes.Length);
            Instructions++;
        }

        public void Event(string kind, IReadOnlyDictionary<string, object> fields)
        {
        }
    }

    [Fact]
    public void A_refused_fetch_reports_id_even_without_nxe_or_smep()
    {
        // docs/abi.md section 4: "I/D for an instruction fetch", whatever EFER.NXE and CR4.SMEP
        // say (the architecture would leave I/D clear for its own faults here).
        using var g = new HekiGuestMachine(nxe: false);
        Assert.Equal(0UL, g.Cpu.Efer & 0x800);
        Assert.Equal(0UL, g.Cpu.Cr4 & Smep);
        g.Emit(0x160000, a => a.nop());
        Assert.Equal(0, g.ProtectMemory((0x160000, 1, R | W)));
        g.Cpu.Gpr[Processor.RBX] = 0x160000;
        var fault = g.Execute(a => a.jmp(rbx)).AssertFault(GuestFault.PageFault, 0x160000);
        Assert.Equal(PfId | PfP | PfHost, fault.ErrorCode);
    }

    [Fact]
    public void Exception_frames_pushed_by_delivery_are_checked_like_any_other_write()
    {
        using var g = new HekiGuestMachine();
        g.HandlersExitWithTheirVector();
        g.Gate(8, ist: 1);                                                // #DF on IST1, an unprotected stack
        const ulong stackPage = HekiGuestMachine.StackTop - 0x1000;
        Assert.Equal(0, g.ProtectMemory((stackPage, 1, R)));
        g.Execute(a => a.ud2()).AssertFault(GuestFault.InvalidOpcode, Code);

        Assert.True(g.Vm.Exceptions.Deliver(new PendingException(GuestFault.UD(), false, Code)));

        // #UD's frame (5 words) is refused, then #PF's (6 words), then #DF goes to IST1.
        Assert.Equal(HekiGuestMachine.Handler(8), g.Cpu.Rip);
        var chain = g.Vm.Exceptions.LastChain;
        Assert.Equal(new FaultChainEntry(14, PfP | PfW | PfHost, HekiGuestMachine.StackTop - 40, Code), chain[1]);
        Assert.Equal(
            [(HekiGuestMachine.StackTop - 40, AccessKind.Write), (HekiGuestMachine.StackTop - 48, AccessKind.Write)],
            g.Events.Denials.Select(d => (d.Gva!.Value, d.Access!.Value)).ToArray());
        Assert.All(g.Events.Denials, d => Assert.Equal(DenialKind.Memory, d.Kind));
        Assert.Equal(0UL, g.ReadU64(HekiGuestMachine.StackTop - 8));        // nothing was pushed there
    }

    [Fact]
    public void Idt_reads_by_delivery_are_checked_like_any_other_read()
    {
        using var g = new HekiGuestMachine();
        g.HandlersExitWithTheirVector();
        Assert.Equal(0, g.ProtectMemory((HekiGuestMachine.Idt, 1, W)));
        g.Execute(a => a.ud2()).AssertFault(GuestFault.InvalidOpcode, Code);

        Assert.False(g.Vm.Exceptions.Deliver(new PendingException(GuestFault.UD(), false, Code)));   // no gate readable: triple fault

        const ulong idt = HekiGuestMachine.Idt;
        Assert.Equal(new FaultChainEntry(14, PfP | PfHost, idt + 6 * 16, Code), g.Vm.Exceptions.LastChain[1]);
        Assert.Equal(
            [(idt + 6 * 16, AccessKind.Read), (idt + 14 * 16, AccessKind.Read), (idt + 8 * 16, AccessKind.Read)],
            g.Events.Denials.Select(d => (d.Gpa!.Value, d.Access!.Value)).ToArray());
    }

    [Fact]
    public void An_instruction_straddling_into_a_page_without_exec_faults_even_after_it_ran_before()
    {
        using var g = new HekiGuestMachine();
        // A 10-byte MOV RAX, imm64 that starts 4 bytes before the end of P and ends on P + 0x1000,
        // and a PROTECT_MEMORY call at Code; both emitted up front, so nothing the test harness
        // does in between (no re-emission) drops what the core cached from the first run.
        const ulong start = P + 0x1000 - 4;
        ulong end = g.Emit(start, a => a.mov(rax, 0x1122_3344_5566_7788UL));
        ulong callEnd = g.Emit(Code, a => a.vmcall());
        g.WriteRanges(HekiGuestMachine.RangeArray, (P + 0x1000, 1, R | W));
        g.RunFrom(start, end).AssertCompleted();                          // decoded and run once
        Assert.Equal(0x1122_3344_5566_7788UL, g.Cpu.Gpr[Processor.RAX]);

        g.Cpu.Gpr[Processor.RAX] = ProtectMemory;
        g.Cpu.Gpr[Processor.RBX] = HekiGuestMachine.RangeArray;
        g.Cpu.Gpr[Processor.RCX] = 1;
        g.Cpu.Gpr[Processor.RDX] = 0;
        g.RunFrom(Code, callEnd).AssertCompleted();                        // its tail loses EXEC
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);

        var fault = g.RunFrom(start, end).AssertFault(GuestFault.PageFault, start);
        Assert.Equal(P + 0x1000, fault.Cr2);
        Assert.Equal(PfId | PfP | PfHost, fault.ErrorCode);
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);                       // the MOV did not happen
        AssertMemoryDenial(g, P + 0x1000, P + 0x1000, AccessKind.Execute, start);
    }
}
