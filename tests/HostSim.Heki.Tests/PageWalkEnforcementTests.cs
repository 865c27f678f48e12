using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using HekiGuest.Tests.Shared;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// The CPU's own accesses during a page walk are governed by the permission map like EPT governs
/// them (docs/abi.md section 4): reading a paging-structure entry needs READ on its page, setting
/// accessed/dirty bits needs WRITE, the whole walk is checked before anything is written, and an
/// allowed A/D write into a page holding decoded code drops that code.
/// </summary>
public sealed class PageWalkEnforcementTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong Target = 0x150000;               // an ordinary kernel data page
    private const ulong Text = 0x160000;                 // stands for kernel text (R+X, IMMUTABLE)
    private const ulong Secret = 0x170000;               // a page with no rights at all
    private const ulong Pd3Linear = 0x600000;            // linear addresses mapped by PD entry 3
    private const ulong Pd3 = HekiGuestMachine.Pd + 3 * 8;
    private const ulong Marker = 0x0123_4567_89AB_CDEF;
    private const ulong Accessed = 0x20, Dirty = 0x40;

    private static GuestRun Store(HekiGuestMachine g, ulong linear)
    {
        g.Cpu.Gpr[Processor.RBX] = linear;
        g.Cpu.Gpr[Processor.RAX] = Marker;
        return g.Execute(a => a.mov(__qword_ptr[rbx], rax));
    }

    private static GuestRun Load(HekiGuestMachine g, ulong linear)
    {
        g.Cpu.Gpr[Processor.RBX] = linear;
        g.Cpu.Gpr[Processor.RAX] = 0x5A5A;
        return g.Execute(a => a.mov(rax, __qword_ptr[rbx]));
    }

    /// <summary>Makes the page at <paramref name="table"/> the page table behind PD entry 3 (linear 6-8 MiB).</summary>
    private static void UseAsPageTable(HekiGuestMachine g, ulong table, ulong pdFlags = 3)
    {
        g.WriteU64(Pd3, table | pdFlags);
        g.Cpu.FlushTlb();
    }

    private static DenialEvent AssertWalkDenial(HekiGuestMachine g, ulong gva, ulong entry, AccessKind access)
    {
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.Memory, d.Kind);
        Assert.Equal(DenialCause.PageWalk, d.Cause);
        Assert.Equal(gva, d.Gva);
        Assert.Equal(entry, d.Gpa);
        Assert.Equal(access, d.Access);
        Assert.Equal(Code, d.Rip);
        return d;
    }

    [Fact]
    public void Accessed_bit_write_into_an_immutable_text_page_used_as_a_page_table_is_denied_and_text_is_unchanged()
    {
        using var g = new HekiGuestMachine();
        ulong entry = Text + 5 * 8;
        g.WriteU64(entry, Target | 3);                                     // "code bytes" that look like a present PTE, A clear
        Assert.Equal(0, g.ProtectMemory((Text, 1, R | X | Immutable)));
        UseAsPageTable(g, Text);
        ulong linear = Pd3Linear + 5 * 0x1000;

        var fault = Load(g, linear).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(linear, fault.Cr2);
        Assert.Equal(PfP | PfHost, fault.ErrorCode);                        // the error code of the guest's read, plus bit 31
        Assert.Equal(Target | 3, g.ReadU64(entry));                         // bit 5 of the immutable byte is still clear
        Assert.Equal(0x5A5AUL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(0UL, g.ReadU64(Pd3) & Accessed);                       // nothing of the walk was written
        AssertWalkDenial(g, linear, entry, AccessKind.Write);
    }

    [Fact]
    public void Dirty_bit_write_into_a_read_only_page_table_is_denied_for_a_store_and_the_store_does_not_happen()
    {
        using var g = new HekiGuestMachine();
        ulong linear = HekiGuestMachine.AliasBase + 0x8000;
        g.MapAlias(linear, Target, flags: 3 | Accessed);                   // accessed already, dirty clear
        ulong pte = HekiGuestMachine.AliasPt + 8 * 8;
        g.WriteU64(Target, 7);
        Assert.Equal(0, g.ProtectMemory((HekiGuestMachine.AliasPt, 1, R)));

        var fault = Store(g, linear).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(PfP | PfW | PfHost, fault.ErrorCode);
        Assert.Equal(7UL, g.ReadU64(Target));
        Assert.Equal(0UL, g.ReadU64(pte) & Dirty);
        AssertWalkDenial(g, linear, pte, AccessKind.Write);
    }

    [Fact]
    public void Read_only_page_tables_with_accessed_and_dirty_preset_work_without_denials()
    {
        using var g = new HekiGuestMachine();
        ulong linear = HekiGuestMachine.AliasBase + 0x9000;
        g.MapAlias(linear, Target, flags: 3 | Accessed | Dirty);
        // the upper levels need their accessed bits set too (what the SDK tells a guest to do)
        foreach (var e in new[] { HekiGuestMachine.Pml4, HekiGuestMachine.Pdpt, HekiGuestMachine.Pd + 2 * 8 })
        {
            g.WriteU64(e, g.ReadU64(e) | Accessed);
        }
        g.Cpu.FlushTlb();
        Assert.Equal(0, g.ProtectMemory((HekiGuestMachine.Pml4, 4, R)));   // PML4, PDPT, PD, alias PT: read-only

        Store(g, linear).AssertCompleted();
        Load(g, linear).AssertCompleted();

        Assert.Equal(Marker, g.ReadU64(Target));
        Assert.Equal(Marker, g.Cpu.Gpr[Processor.RAX]);
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void A_page_table_on_a_page_without_read_does_not_leak_through_the_walk()
    {
        using var g = new HekiGuestMachine();
        ulong entry = Secret + 9 * 8;
        g.WriteU64(entry, 0x0000_0012_3456_7000 | 3 | Accessed);         // the secret: bits 12-38 would show in the translation
        Assert.Equal(0, g.ProtectMemory((Secret, 1, 0)));
        UseAsPageTable(g, Secret, pdFlags: 3 | Accessed);
        ulong linear = Pd3Linear + 9 * 0x1000;

        var fault = Load(g, linear).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(PfP | PfHost, fault.ErrorCode);
        Assert.Equal(linear, fault.Cr2);
        Assert.Equal(0x5A5AUL, g.Cpu.Gpr[Processor.RAX]);
        AssertWalkDenial(g, linear, entry, AccessKind.Read);
    }

    [Fact]
    public void A_walk_is_checked_whole_before_any_accessed_bit_is_written()
    {
        using var g = new HekiGuestMachine();
        ulong table = 0x180000;
        ulong entry = table + 2 * 8;
        g.WriteU64(entry, Target | 3);                                      // PTE: A clear
        Assert.Equal(0, g.ProtectMemory((table, 1, R)));                    // its page is read-only
        UseAsPageTable(g, table, pdFlags: 3);                              // PDE: A clear, on a writable page
        ulong linear = Pd3Linear + 2 * 0x1000;

        Load(g, linear).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(0UL, g.ReadU64(Pd3) & Accessed);                       // the PDE's A bit, allowed alone, was not written either
        Assert.Equal(Target | 3, g.ReadU64(entry));
        AssertWalkDenial(g, linear, entry, AccessKind.Write);
    }

    [Fact]
    public void A_denied_access_leaves_the_accessed_and_dirty_bits_of_its_walk_unset()
    {
        using var g = new HekiGuestMachine();
        ulong linear = HekiGuestMachine.AliasBase + 0xA000;
        g.MapAlias(linear, Secret, flags: 3);
        ulong pte = HekiGuestMachine.AliasPt + 10 * 8;
        Assert.Equal(0, g.ProtectMemory((Secret, 1, R)));

        Store(g, linear).AssertFault(GuestFault.PageFault, Code);

        Assert.Equal(0UL, g.ReadU64(pte) & (Accessed | Dirty));
        var d = Assert.Single(g.Events.Denials);
        Assert.Null(d.Cause);                                               // the access itself was refused
        Assert.Equal(Secret, d.Gpa);
    }

    [Fact]
    public void An_allowed_accessed_bit_write_into_a_page_of_decoded_code_drops_that_code()
    {
        using var g = new HekiGuestMachine();
        // code page C: "add eax, 1" (05 01 00 00 00) then "add [rax], al" (00 00) ... The first
        // qword, read as a PTE, is present with frame 0 and A clear; setting A turns 05 into 25,
        // "and eax, 1".
        const ulong c = 0x190000;
        byte[] code = [0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
        code.CopyTo(g.Vm.Memory.Slice(c, code.Length));
        g.Cpu.FlushDecodeCache();
        g.Cpu.Gpr[Processor.RAX] = 5;
        g.RunFrom(c, c + 5).AssertCompleted();                              // decoded and cached: add eax, 1
        Assert.Equal(6UL, g.Cpu.Gpr[Processor.RAX]);

        UseAsPageTable(g, c, pdFlags: 3 | Accessed);
        Load(g, Pd3Linear).AssertCompleted();                               // the walk sets A in the code page
        Assert.Equal(0x25, g.Vm.Memory.Slice(c, 1)[0]);

        g.Cpu.Gpr[Processor.RAX] = 6;
        g.RunFrom(c, c + 5).AssertCompleted();                              // now and eax, 1
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RAX]);
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Exception_frame_push_through_a_read_only_page_table_is_denied_as_a_walk_write()
    {
        using var g = new HekiGuestMachine();
        g.HandlersExitWithTheirVector();
        // the kernel stack is reached through PD entry 3 and a PTE with A clear on a read-only page
        const ulong table = 0x1A0000, stackPage = 0x1B0000;
        g.WriteU64(table, stackPage | 3);
        UseAsPageTable(g, table, pdFlags: 3 | Accessed);
        Assert.Equal(0, g.ProtectMemory((table, 1, R)));
        g.Cpu.Gpr[Processor.RSP] = Pd3Linear + 0x1000;
        g.Emit(Code, a => a.ud2());
        g.Cpu.Rip = Code;

        var outcome = g.Vm.Run(new HekiGuest.HostSim.Machine.Execution.RunLimits(null, 1000));

        // #UD's frame push is refused (#PF with bit 31), whose push is refused again (#DF), whose
        // push is refused again: a triple fault, with the page table untouched
        Assert.Equal(HekiGuest.HostSim.Machine.Execution.MachineStopKind.TripleFault, outcome.Kind);
        Assert.Equal(stackPage | 3, g.ReadU64(table));
        Assert.All(g.Events.Denials, d => Assert.Equal(DenialCause.PageWalk, d.Cause));
        Assert.Equal(table, g.Events.Denials[0].Gpa);
    }
}
