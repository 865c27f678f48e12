using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// VMCALL and VMMCALL (docs/abi.md section 3): VERSION and LOCK_CR, heki-v3's LOCK_CR_UPDATE,
/// unknown numbers, register preservation, CPL 3 callers and profile none.
/// </summary>
public sealed class HypercallTests
{
    private const ulong Code = HekiGuestMachine.Code;

    public static TheoryData<bool> BothInstructions => new() { false, true };

    private static (ulong, ulong, ulong, ulong) Pins(HekiGuestMachine g) =>
        (g.Host.Pins.Cr0PinnedLow, g.Host.Pins.Cr0PinnedHigh, g.Host.Pins.Cr4PinnedLow, g.Host.Pins.Cr4PinnedHigh);

    [Theory]
    [MemberData(nameof(BothInstructions))]
    public void Version_returns_1(bool vmmcall)
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(1, g.Hypercall(VersionCall, vmmcall: vmmcall));
    }

    [Theory]
    [MemberData(nameof(BothInstructions))]
    public void Lock_cr_version_query_returns_1_and_changes_nothing(bool vmmcall)
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(1, g.Hypercall(LockCr, 0, 0, 1, vmmcall));
        Assert.Equal((0UL, 0UL, 0UL, 0UL), Pins(g));
        Assert.Empty(g.Events.All);
    }

    /// <summary>Every refusal of LOCK_CR(cr, bits, flags) is -22 and leaves the pins as they were
    /// (after a setup that pins CR4.UMIP low and CR0.WP high through the MSRs).</summary>
    [Theory]
    [InlineData(4UL, 0UL, 1UL)]                        // version query with cr != 0
    [InlineData(0UL, 0x10000UL, 1UL)]                  // version query with bits != 0
    [InlineData(4UL, 0x100000UL, 1UL)]
    [InlineData(3UL, 0x10000UL, 0UL)]                  // CR3
    [InlineData(8UL, 0x1UL, 0UL)]                      // CR8
    [InlineData(2UL, 0x10000UL, 0UL)]
    [InlineData(0x100000004UL, 0x100000UL, 0UL)]       // "4" with high bits set
    [InlineData(0UL, 0UL, 0UL)]                        // bits = 0
    [InlineData(4UL, 0UL, 0UL)]
    [InlineData(0UL, 0x1UL, 0UL)]                      // PE: not allowed
    [InlineData(0UL, 0x80000000UL, 0UL)]               // PG
    [InlineData(4UL, 0x20UL, 0UL)]                     // PAE
    [InlineData(4UL, 0x100020UL, 0UL)]                 // SMEP (fine) with PAE (not): nothing pinned
    [InlineData(4UL, 0x10000UL, 0UL)]                  // a CR0 bit for CR4
    [InlineData(0UL, 0x100000UL, 0UL)]                 // a CR4 bit for CR0
    [InlineData(4UL, 0x800UL, 0UL)]                    // UMIP is pinned low
    [InlineData(4UL, 0x100800UL, 0UL)]                 // SMEP with low-pinned UMIP
    [InlineData(4UL, 0x100000UL, 2UL)]                 // unknown flag
    [InlineData(4UL, 0x100000UL, 3UL)]                 // version flag plus an unknown one
    [InlineData(4UL, 0x100000UL, 0x8000000000000000UL)]
    public void Lock_cr_refusals_are_einval_and_change_nothing(ulong cr, ulong bits, ulong flags)
    {
        foreach (bool vmmcall in new[] { false, true })
        {
            using var g = new HekiGuestMachine();
            g.Wrmsr(MsrBase + Cr4PinnedLow, Umip).AssertCompleted();
            g.Wrmsr(MsrBase + Cr0PinnedHigh, Wp).AssertCompleted();
            var before = Pins(g);
            int configures = g.Events.Configures.Count;
            Assert.Equal(EInval, g.Hypercall(LockCr, cr, bits, flags, vmmcall));
            Assert.Equal(before, Pins(g));
            Assert.Equal(configures, g.Events.Configures.Count);
        }
    }

    [Theory]
    [MemberData(nameof(BothInstructions))]
    public void Lock_cr_success_adds_to_pinned_high_as_the_msrs_show_and_pins_only_grow(bool vmmcall)
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.Hypercall(LockCr, 4, Smep, 0, vmmcall));
        Assert.Equal(Smep, g.Rdmsr(MsrBase + Cr4PinnedHigh));
        Assert.Equal(0, g.Hypercall(LockCr, 4, Smap | Umip, 0, vmmcall));
        Assert.Equal(Smep | Smap | Umip, g.Rdmsr(MsrBase + Cr4PinnedHigh));   // added, not replaced
        Assert.Equal(0, g.Hypercall(LockCr, 4, Smep, 0, vmmcall));            // already pinned: still fine
        Assert.Equal(Smep | Smap | Umip, g.Rdmsr(MsrBase + Cr4PinnedHigh));
        Assert.Equal(0, g.Hypercall(LockCr, 0, Wp, 0, vmmcall));
        Assert.Equal(Wp, g.Rdmsr(MsrBase + Cr0PinnedHigh));
        Assert.Equal(0UL, g.Rdmsr(MsrBase + Cr0PinnedLow));
        Assert.Equal(0UL, g.Rdmsr(MsrBase + Cr4PinnedLow));
        // An MSR write cannot take a LOCK_CR pin away.
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep).AssertGp0(Code);
        Assert.Equal(Smep | Smap | Umip, g.Rdmsr(MsrBase + Cr4PinnedHigh));
    }

    [Theory]
    [MemberData(nameof(BothInstructions))]
    public void Heki_v3_offers_lock_cr_update_as_number_13_only(bool vmmcall)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.HekiV3 });
        Assert.Equal(1, g.Hypercall(HekiV3LockCrUpdate, 0, 0, 1, vmmcall));          // version query
        Assert.Equal(EInval, g.Hypercall(HekiV3LockCrUpdate, 4, 0x20, 0, vmmcall));
        Assert.Equal(EInval, g.Hypercall(HekiV3LockCrUpdate, 3, Wp, 0, vmmcall));
        Assert.Equal(0, g.Hypercall(HekiV3LockCrUpdate, 4, Smep, 0, vmmcall));
        Assert.Equal(Smep, g.Host.Pins.Cr4PinnedHigh);
        Assert.Equal(0, g.Hypercall(HekiV3LockCrUpdate, 0, Wp, 0, vmmcall));
        Assert.Equal(Wp, g.Host.Pins.Cr0PinnedHigh);
        // The HekiGuest numbers do not exist there.
        Assert.Equal(ENoSys, g.Hypercall(VersionCall, vmmcall: vmmcall));
        Assert.Equal(ENoSys, g.Hypercall(LockCr, 4, Smap, 0, vmmcall));
        Assert.Equal(ENoSys, g.Hypercall(ProtectMemory, HekiGuestMachine.RangeArray, 1, 0, vmmcall));
        Assert.Equal(Smep, g.Host.Pins.Cr4PinnedHigh);
        Assert.Equal(ENoSys, g.Hypercall(12, vmmcall: vmmcall));
        Assert.Equal(ENoSys, g.Hypercall(14, vmmcall: vmmcall));
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, 13UL)]                 // heki-v3's number under heki
    [InlineData(HekiHostProfile.Heki, 0UL)]
    [InlineData(HekiHostProfile.Heki, 1UL)]
    [InlineData(HekiHostProfile.Heki, 0x48450003UL)]         // base + 3
    [InlineData(HekiHostProfile.Heki, 0x4845FFFFUL)]
    [InlineData(HekiHostProfile.Heki, 0x4844FFFFUL)]         // base - 1
    [InlineData(HekiHostProfile.Heki, 0x148450000UL)]        // base with a high bit in RAX
    [InlineData(HekiHostProfile.Heki, 0xFFFFFFFFFFFFFFFFUL)]
    [InlineData(HekiHostProfile.HekiV3, 0x10000000DUL)]
    [InlineData(HekiHostProfile.CrPin2020, 0x48450000UL)]
    public void Unknown_numbers_are_enosys(HekiHostProfile profile, ulong nr)
    {
        foreach (bool vmmcall in new[] { false, true })
        {
            using var g = new HekiGuestMachine(new HekiHostOptions { Profile = profile });
            Assert.Equal(ENoSys, g.Hypercall(nr, 4, Smep, 0, vmmcall));
            Assert.Equal((0UL, 0UL, 0UL, 0UL), Pins(g));
        }
    }

    [Theory]
    [InlineData(0x48450000UL, false)]
    [InlineData(0x48450001UL, false)]
    [InlineData(0x48450002UL, false)]
    [InlineData(0x48450001UL, true)]
    [InlineData(0x12345UL, true)]
    public void Every_register_but_rax_is_preserved_and_rip_moves_past_the_call(ulong nr, bool vmmcall)
    {
        using var g = new HekiGuestMachine();
        g.WriteRanges(HekiGuestMachine.RangeArray, (0x150000, 1, R | W));
        var regs = new ulong[16];
        for (int i = 0; i < 16; i++) regs[i] = 0x1111_0000_0000_0000UL * (ulong)(i + 1) + (ulong)i;
        regs[Processor.RBX] = nr == 0x48450001 ? 4 : HekiGuestMachine.RangeArray;
        regs[Processor.RCX] = nr == 0x48450001 ? Smep : 1;
        regs[Processor.RDX] = 0;
        regs[Processor.RSP] = HekiGuestMachine.StackTop - 64;
        regs[Processor.RAX] = nr;
        for (int i = 0; i < 16; i++) g.Cpu.Gpr[i] = regs[i];
        ulong flags = g.Cpu.Rflags;

        var run = g.Execute(a => { if (vmmcall) a.vmmcall(); else a.vmcall(); });

        run.AssertCompleted();
        Assert.Equal(Code + 3, g.Cpu.Rip);
        for (int i = 1; i < 16; i++) Assert.Equal(regs[i], g.Cpu.Gpr[i]);
        Assert.NotEqual(nr, g.Cpu.Gpr[Processor.RAX]);
        Assert.Equal(flags, g.Cpu.Rflags);
    }

    public static TheoryData<ulong, bool> UserCalls()
    {
        var data = new TheoryData<ulong, bool>();
        foreach (bool vmmcall in new[] { false, true })
        {
            data.Add(VersionCall, vmmcall);
            data.Add(LockCr, vmmcall);
            data.Add(ProtectMemory, vmmcall);
            data.Add(0x99, vmmcall);                                   // unknown: still -1, arguments unseen
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(UserCalls))]
    public void A_call_from_cpl3_returns_eperm_changes_nothing_and_is_a_hypercall_denial(ulong nr, bool vmmcall)
    {
        using var g = new HekiGuestMachine();
        g.WriteRanges(HekiGuestMachine.RangeArray, (0x150000, 1, R));
        g.EnterUserMode();
        Assert.Equal(3, g.Cpu.Cpl);
        ulong rbx = nr == LockCr ? 4 : HekiGuestMachine.RangeArray, rcx = nr == LockCr ? Smep : 1;

        long result = g.Hypercall(nr, rbx, rcx, 0, vmmcall, at: HekiGuestMachine.UserCode);

        Assert.Equal(EPerm, result);
        Assert.Equal((0UL, 0UL, 0UL, 0UL), Pins(g));
        Assert.True(g.Host.Permissions.IsEmpty);
        Assert.Empty(g.Events.Configures);
        var denial = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.Hypercall, denial.Kind);
        Assert.Equal(EPerm, denial.Error);
        Assert.Equal(nr, denial.Hypercall);
        Assert.Equal(HekiGuestMachine.UserCode, denial.Rip);
        Assert.Equal(HekiHost.Vcpu, denial.Vcpu);
    }

    [Theory]
    [MemberData(nameof(BothInstructions))]
    public void Profile_none_has_no_hypercalls_vmcall_is_ud(bool vmmcall)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.None });
        g.Cpu.Gpr[Processor.RAX] = VersionCall;
        var run = g.Execute(a => { if (vmmcall) a.vmmcall(); else a.vmcall(); });
        run.AssertFault(GuestFault.InvalidOpcode, Code);
        Assert.Equal(VersionCall, g.Cpu.Gpr[Processor.RAX]);
        Assert.Empty(g.Events.All);
    }

    [Fact]
    public void Cr_pin_2020_has_no_lock_cr_its_pins_come_only_from_the_msrs()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.CrPin2020 });
        Assert.True(g.Hypercall(LockCr, 4, Smep, 0) < 0);
        Assert.True(g.Hypercall(HekiV3LockCrUpdate, 4, Smep, 0) < 0);
        Assert.Equal((0UL, 0UL, 0UL, 0UL), Pins(g));
    }

    [Fact]
    public void Hypercall_numbers_are_compared_as_eax_outside_64_bit_mode()
    {
        using var g = new HekiGuestMachine();
        g.Cpu.EnterFlatProtectedMode();                              // 32-bit code, no paging
        Assert.Equal(32, g.Cpu.Bitness);
        g.Cpu.Gpr[Processor.RAX] = 0xFFFF_FFFF_0000_0000UL | VersionCall;
        g.Execute(a => a.vmcall()).AssertCompleted();               // same encoding in both modes
        Assert.Equal(1UL, g.Cpu.Gpr[Processor.RAX] & 0xFFFF_FFFF);
        Assert.Equal(0, g.Hypercall(0x1234_5678_0000_0000UL | LockCr, 4, Smep, 0));
        Assert.Equal(Smep, g.Host.Pins.Cr4PinnedHigh);
    }

    [Fact]
    public void A_call_from_cpl1_is_refused_like_one_from_cpl3()
    {
        using var g = new HekiGuestMachine();
        // A ring-1 64-bit code segment (DPL 1, selector RPL 1) through the segment state.
        g.Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = 0x08 | 1, Attributes = 0xA0BB, Limit = 0xFFFF_FFFF });
        Assert.Equal(1, g.Cpu.Cpl);
        Assert.Equal(EPerm, g.Hypercall(LockCr, 4, Smep, 0));
        Assert.Equal(0UL, g.Host.Pins.Cr4PinnedHigh);
        Assert.Equal(DenialKind.Hypercall, Assert.Single(g.Events.Denials).Kind);
    }
}
