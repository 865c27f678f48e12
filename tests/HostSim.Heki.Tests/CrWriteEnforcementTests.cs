using HekiGuest.HostSim.Heki.Tests.Support;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// Enforcement of the pins on MOV CR0/MOV CR4 (docs/abi.md section 2): a value with a
/// PINNED_HIGH bit clear or a PINNED_LOW bit set is #GP(0) with the register unchanged; any other
/// value is written. Host pre-pins (section 5) are in place before the first guest instruction.
/// </summary>
public sealed class CrWriteEnforcementTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong Cr0Base = 0x80000033;      // PG NE ET MP PE (the test guest's CR0, WP clear)
    private const ulong Cr4Base = 0x620;           // PAE OSFXSR OSXMMEXCPT

    /// <summary>
    /// Pins are set by the guest through the MSRs (heki numbering), then CR<paramref name="cr"/>
    /// starts at <paramref name="initial"/> and the guest writes <paramref name="attempt"/>.
    /// </summary>
    [Theory]
    // CR4: SMEP pinned high
    [InlineData(4, Smep, 0UL, Cr4Base | Smep, Cr4Base, false)]                       // clears pinned SMEP
    [InlineData(4, Smep, 0UL, Cr4Base | Smep, Cr4Base | Smep | Umip, true)]          // keeps it, sets an unpinned bit
    [InlineData(4, Smep, 0UL, Cr4Base | Smep, Cr4Base | Smep, true)]                 // rewrites the same value
    [InlineData(4, Smep, 0UL, Cr4Base, Cr4Base | Umip, false)]                       // pinned but never set: still must be 1
    [InlineData(4, Smep | Umip, 0UL, Cr4Base | Smep | Umip, Cr4Base | Smep, false)]   // clears one of two pins
    // CR4: pinned low
    [InlineData(4, 0UL, Smap, Cr4Base, Cr4Base | Smap, false)]                       // sets pinned-low SMAP
    [InlineData(4, 0UL, Smap, Cr4Base, Cr4Base | Smep, true)]                        // sets an unpinned bit
    [InlineData(4, Smep, Umip, Cr4Base | Smep, Cr4Base | Smep | Umip, false)]
    [InlineData(4, Smep, Umip, Cr4Base | Smep, Cr4Base | Smep | Smap, true)]
    // CR0: WP pinned high or low
    [InlineData(0, Wp, 0UL, Cr0Base | Wp, Cr0Base, false)]                           // clears pinned WP
    [InlineData(0, Wp, 0UL, Cr0Base | Wp, Cr0Base | Wp | 8, true)]                   // keeps WP, sets TS
    [InlineData(0, Wp, 0UL, Cr0Base | Wp | 8, Cr0Base | Wp, true)]                   // keeps WP, clears TS
    [InlineData(0, 0UL, Wp, Cr0Base, Cr0Base | Wp, false)]                           // sets pinned-low WP
    [InlineData(0, 0UL, Wp, Cr0Base, Cr0Base | 8, true)]
    public void Mov_cr_is_refused_with_gp0_exactly_when_it_breaks_a_pin(int cr, ulong high, ulong low, ulong initial, ulong attempt, bool allowed)
    {
        using var g = new HekiGuestMachine();
        if (cr == 0) g.Cpu.Cr0 = initial; else g.Cpu.Cr4 = initial;
        uint highMsr = MsrBase + (cr == 0 ? Cr0PinnedHigh : Cr4PinnedHigh);
        uint lowMsr = MsrBase + (cr == 0 ? Cr0PinnedLow : Cr4PinnedLow);
        g.Wrmsr(highMsr, high).AssertCompleted();
        g.Wrmsr(lowMsr, low).AssertCompleted();
        Assert.Equal(initial, g.Cr(cr));                         // pinning does not touch the register

        var run = g.WriteCr(cr, attempt);

        if (allowed)
        {
            run.AssertCompleted();
            Assert.Equal(attempt, g.Cr(cr));
            Assert.Empty(g.Events.Denials);
        }
        else
        {
            run.AssertGp0(Code);
            Assert.Equal(initial, g.Cr(cr));
            var denial = Assert.Single(g.Events.Denials);
            Assert.Equal(DenialKind.CrWrite, denial.Kind);
            Assert.Equal(cr, denial.Cr);
            Assert.Equal(attempt, denial.Value);
        }
    }

    [Fact]
    public void Pins_set_by_lock_cr_are_enforced_like_msr_pins()
    {
        using var g = new HekiGuestMachine();
        g.Cpu.Cr4 = Cr4Base | Smap;
        Assert.Equal(0, g.Hypercall(LockCr, 4, Smap, 0));
        g.WriteCr(4, Cr4Base).AssertGp0(Code);
        Assert.Equal(Cr4Base | Smap, g.Cpu.Cr4);
        g.WriteCr(4, Cr4Base | Smap | Smep).AssertCompleted();
        Assert.Equal(Cr4Base | Smap | Smep, g.Cpu.Cr4);
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki)]
    [InlineData(HekiHostProfile.CrPin2020)]
    [InlineData(HekiHostProfile.HekiV3)]
    public void Without_pins_every_valid_cr_write_goes_through(HekiHostProfile profile)
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = profile });
        g.WriteCr(4, Cr4Base | Smep | Smap | Umip).AssertCompleted();
        g.WriteCr(4, Cr4Base).AssertCompleted();
        g.WriteCr(0, Cr0Base | Wp).AssertCompleted();
        g.WriteCr(0, Cr0Base).AssertCompleted();
        Assert.Equal(Cr0Base, g.Cpu.Cr0);
        Assert.Equal(Cr4Base, g.Cpu.Cr4);
        Assert.Empty(g.Events.Denials);
    }

    [Fact]
    public void Host_pre_pins_are_in_place_before_the_first_instruction_and_read_back_through_the_msrs()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { PrePinCr0 = Wp, PrePinCr4 = Smep | Smap });
        Assert.Equal(Wp, g.Host.Pins.Cr0PinnedHigh);
        Assert.Equal(Smep | Smap, g.Host.Pins.Cr4PinnedHigh);
        Assert.Equal(0L, g.Cpu.InstructionsRetired);

        // The very first guest instruction already sees them.
        Assert.Equal(Wp, g.Rdmsr(MsrBase + Cr0PinnedHigh));
        Assert.Equal(Smep | Smap, g.Rdmsr(MsrBase + Cr4PinnedHigh));
        Assert.Equal(0UL, g.Rdmsr(MsrBase + Cr0PinnedLow));
        Assert.Equal(0UL, g.Rdmsr(MsrBase + Cr4PinnedLow));

        // ... and they are enforced: setting them is fine, clearing them is refused.
        g.WriteCr(0, Cr0Base).AssertGp0(Code);
        g.WriteCr(0, Cr0Base | Wp).AssertCompleted();
        g.WriteCr(0, Cr0Base).AssertGp0(Code);
        Assert.Equal(Cr0Base | Wp, g.Cpu.Cr0);
        g.WriteCr(4, Cr4Base | Smep).AssertGp0(Code);
        g.WriteCr(4, Cr4Base | Smep | Smap).AssertCompleted();
        Assert.Equal(Cr4Base | Smep | Smap, g.Cpu.Cr4);

        // The guest may add to them but not take them away.
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep).AssertGp0(Code);
        g.Wrmsr(MsrBase + Cr4PinnedHigh, Smep | Smap | Umip).AssertCompleted();
        Assert.Equal(Smep | Smap | Umip, g.Rdmsr(MsrBase + Cr4PinnedHigh));
    }

    [Fact]
    public void Host_pre_pins_under_cr_pin_2020_read_back_at_the_2020_numbers()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.CrPin2020, PrePinCr0 = Wp, PrePinCr4 = Umip });
        Assert.Equal(Wp, g.Rdmsr(0x4B564D0B));
        Assert.Equal(Umip, g.Rdmsr(0x4B564D0D));
        g.WriteCr(4, Cr4Base).AssertGp0(Code);
    }

    [Fact]
    public void Host_pre_pins_are_enforced_under_heki_v3_which_has_no_msrs()
    {
        using var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.HekiV3, PrePinCr4 = Smep });
        g.WriteCr(4, Cr4Base).AssertGp0(Code);
        g.WriteCr(4, Cr4Base | Smep).AssertCompleted();
    }
}
