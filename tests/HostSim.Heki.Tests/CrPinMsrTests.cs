using HekiGuest.HostSim.Heki.Tests.Support;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// The six CR-pinning MSRs (docs/abi.md section 2), driven by RDMSR/WRMSR executed by the guest,
/// under both numberings: the HekiGuest MSR base and cr-pin-2020's 0x4b564d08.. (section 7).
/// A refused write is #GP(0) with RIP still at the WRMSR and nothing changed.
/// </summary>
public sealed class CrPinMsrTests
{
    private const ulong Code = HekiGuestMachine.Code;

    public static TheoryData<HekiHostProfile> MsrProfiles => new() { HekiHostProfile.Heki, HekiHostProfile.CrPin2020 };

    private static HekiGuestMachine Machine(HekiHostProfile profile) => new(new HekiHostOptions { Profile = profile });

    private static ulong[] ReadAll(HekiGuestMachine g, uint msrBase) =>
        Enumerable.Range(0, 6).Select(i => g.Rdmsr(msrBase + (uint)i)).ToArray();

    [Theory]
    [MemberData(nameof(MsrProfiles))]
    public void Rdmsr_of_all_six_returns_the_allowed_masks_and_the_current_pins(HekiHostProfile profile)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        Assert.Equal([Cr0Allowed, Cr4Allowed, 0UL, 0UL, 0UL, 0UL], ReadAll(g, b));

        g.Wrmsr(b + Cr0PinnedHigh, Wp).AssertCompleted();
        g.Wrmsr(b + Cr4PinnedLow, Umip).AssertCompleted();
        g.Wrmsr(b + Cr4PinnedHigh, Smep | Smap).AssertCompleted();

        Assert.Equal([Cr0Allowed, Cr4Allowed, 0UL, Wp, Umip, Smep | Smap], ReadAll(g, b));
        Assert.Equal((0UL, Wp, Umip, Smep | Smap), (g.Host.Pins.Cr0PinnedLow, g.Host.Pins.Cr0PinnedHigh, g.Host.Pins.Cr4PinnedLow, g.Host.Pins.Cr4PinnedHigh));
    }

    public static TheoryData<HekiHostProfile, uint, ulong> AllowedWrites()
    {
        var data = new TheoryData<HekiHostProfile, uint, ulong>();
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020 })
        {
            foreach (ulong v in new[] { 0UL, Cr0Allowed, Cr4Allowed, 0xFFFF_FFFFUL, 1UL << 40 })
            {
                data.Add(p, Cr0PinAllowed, v);
                data.Add(p, Cr4PinAllowed, v);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllowedWrites))]
    public void Wrmsr_to_an_allowed_msr_is_gp0_and_changes_nothing(HekiHostProfile profile, uint offset, ulong value)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        g.Wrmsr(b + offset, value).AssertGp0(Code);
        Assert.Equal([Cr0Allowed, Cr4Allowed, 0UL, 0UL, 0UL, 0UL], ReadAll(g, b));
    }

    public static TheoryData<HekiHostProfile, uint, ulong> OutsideAllowed()
    {
        var data = new TheoryData<HekiHostProfile, uint, ulong>();
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020 })
        {
            data.Add(p, Cr0PinnedLow, 1);                          // PE
            data.Add(p, Cr0PinnedHigh, 0x8000_0000);               // PG
            data.Add(p, Cr0PinnedHigh, Wp | 1);                    // one good bit, one bad
            data.Add(p, Cr0PinnedHigh, Smep);                      // a CR4 bit in CR0
            data.Add(p, Cr0PinnedHigh, Wp | (1UL << 32));          // EDX half
            data.Add(p, Cr4PinnedLow, 0x20);                       // PAE
            data.Add(p, Cr4PinnedLow, Wp);                         // a CR0 bit in CR4
            data.Add(p, Cr4PinnedHigh, Smep | 0x80);               // PGE
            data.Add(p, Cr4PinnedHigh, 1UL << 16);                 // FSGSBASE (left for later versions)
            data.Add(p, Cr4PinnedHigh, Smap | (1UL << 63));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(OutsideAllowed))]
    public void Wrmsr_pinned_with_a_bit_outside_allowed_is_gp0_and_changes_nothing(HekiHostProfile profile, uint offset, ulong value)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        g.Wrmsr(b + offset, value).AssertGp0(Code);
        Assert.Equal([Cr0Allowed, Cr4Allowed, 0UL, 0UL, 0UL, 0UL], ReadAll(g, b));
    }

    public static TheoryData<HekiHostProfile, uint, ulong, uint, ulong> BothWays()
    {
        var data = new TheoryData<HekiHostProfile, uint, ulong, uint, ulong>();
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020 })
        {
            data.Add(p, Cr0PinnedHigh, Wp, Cr0PinnedLow, Wp);
            data.Add(p, Cr0PinnedLow, Wp, Cr0PinnedHigh, Wp);
            data.Add(p, Cr4PinnedHigh, Smep, Cr4PinnedLow, Smep);
            data.Add(p, Cr4PinnedHigh, Smep, Cr4PinnedLow, Smep | Umip);   // overlaps in one bit
            data.Add(p, Cr4PinnedLow, Smap | Umip, Cr4PinnedHigh, Umip);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BothWays))]
    public void A_bit_pinned_both_low_and_high_is_gp0(HekiHostProfile profile, uint first, ulong firstValue, uint second, ulong secondValue)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        g.Wrmsr(b + first, firstValue).AssertCompleted();
        var before = ReadAll(g, b);
        g.Wrmsr(b + second, secondValue).AssertGp0(Code);
        Assert.Equal(before, ReadAll(g, b));
        Assert.Equal(firstValue, g.Rdmsr(b + first));
        Assert.Equal(0UL, g.Rdmsr(b + second));
    }

    public static TheoryData<HekiHostProfile, uint, ulong, ulong> Clearing()
    {
        var data = new TheoryData<HekiHostProfile, uint, ulong, ulong>();
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020 })
        {
            data.Add(p, Cr0PinnedLow, Wp, 0);
            data.Add(p, Cr0PinnedHigh, Wp, 0);
            data.Add(p, Cr4PinnedLow, Smep | Smap, Smep);
            data.Add(p, Cr4PinnedHigh, Smep | Smap, Smap);
            data.Add(p, Cr4PinnedHigh, Smep | Smap, Umip);             // adds one, drops two
            data.Add(p, Cr4PinnedHigh, Smep | Smap | Umip, 0);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Clearing))]
    public void Clearing_an_existing_pin_is_gp0_and_the_pin_stays(HekiHostProfile profile, uint offset, ulong pinned, ulong attempt)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        g.Wrmsr(b + offset, pinned).AssertCompleted();
        g.Wrmsr(b + offset, attempt).AssertGp0(Code);
        Assert.Equal(pinned, g.Rdmsr(b + offset));
    }

    [Theory]
    [MemberData(nameof(MsrProfiles))]
    public void Adding_pins_is_accepted_reads_back_and_leaves_the_control_registers_alone(HekiHostProfile profile)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        ulong cr0 = g.Cpu.Cr0, cr4 = g.Cpu.Cr4;
        foreach (ulong v in new[] { Smep, Smep | Smap, Smep | Smap | Umip })
        {
            g.Wrmsr(b + Cr4PinnedHigh, v).AssertCompleted();
            Assert.Equal(v, g.Rdmsr(b + Cr4PinnedHigh));
        }
        g.Wrmsr(b + Cr0PinnedHigh, Wp).AssertCompleted();
        Assert.Equal(Wp, g.Rdmsr(b + Cr0PinnedHigh));
        Assert.Equal(cr0, g.Cpu.Cr0);                              // pinning does not set the bits
        Assert.Equal(cr4, g.Cpu.Cr4);
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, Cr0PinnedLow, 0UL)]
    [InlineData(HekiHostProfile.Heki, Cr0PinnedHigh, Wp)]
    [InlineData(HekiHostProfile.Heki, Cr4PinnedLow, Umip)]
    [InlineData(HekiHostProfile.Heki, Cr4PinnedHigh, Smep | Smap | Umip)]
    [InlineData(HekiHostProfile.CrPin2020, Cr0PinnedHigh, Wp)]
    [InlineData(HekiHostProfile.CrPin2020, Cr4PinnedHigh, Smap)]
    [InlineData(HekiHostProfile.CrPin2020, Cr4PinnedLow, 0UL)]
    public void An_identical_rewrite_is_accepted(HekiHostProfile profile, uint offset, ulong value)
    {
        using var g = Machine(profile);
        uint b = PinMsrBase(profile);
        g.Wrmsr(b + offset, value).AssertCompleted();
        g.Wrmsr(b + offset, value).AssertCompleted();
        Assert.Equal(value, g.Rdmsr(b + offset));
        Assert.Empty(g.Events.Denials);
    }

    public static TheoryData<HekiHostProfile, uint> AbsentMsrs()
    {
        var data = new TheoryData<HekiHostProfile, uint>();
        foreach (var p in new[] { HekiHostProfile.HekiV3, HekiHostProfile.None })
        {
            for (uint i = 0; i < 6; i++)
            {
                data.Add(p, MsrBase + i);
                data.Add(p, CrPin2020MsrBase + i);
            }
        }
        for (uint i = 0; i < 6; i++)
        {
            data.Add(HekiHostProfile.Heki, CrPin2020MsrBase + i);     // the other numbering is not offered
            data.Add(HekiHostProfile.CrPin2020, MsrBase + i);
        }
        data.Add(HekiHostProfile.Heki, MsrBase + 6);                  // just past the six
        data.Add(HekiHostProfile.Heki, MsrBase - 1);
        data.Add(HekiHostProfile.CrPin2020, CrPin2020MsrBase + 6);
        data.Add(HekiHostProfile.CrPin2020, CrPin2020MsrBase - 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(AbsentMsrs))]
    public void Msrs_the_profile_does_not_offer_are_unknown_to_the_core_gp0(HekiHostProfile profile, uint msr)
    {
        using var g = Machine(profile);
        g.TryRdmsr(msr, out _).AssertGp0(Code);
        g.Wrmsr(msr, 0).AssertGp0(Code);
        Assert.Equal((0UL, 0UL, 0UL, 0UL), (g.Host.Pins.Cr0PinnedLow, g.Host.Pins.Cr0PinnedHigh, g.Host.Pins.Cr4PinnedLow, g.Host.Pins.Cr4PinnedHigh));
    }

    [Theory]
    [MemberData(nameof(MsrProfiles))]
    public void Other_msrs_still_reach_the_core(HekiHostProfile profile)
    {
        using var g = Machine(profile);
        const uint lstar = 0xC0000082;
        g.Wrmsr(lstar, 0xFFFF_8000_1234_5000).AssertCompleted();
        Assert.Equal(0xFFFF_8000_1234_5000UL, g.Rdmsr(lstar));
        Assert.Equal(g.Cpu.Efer, g.Rdmsr(0xC0000080));
    }
}
