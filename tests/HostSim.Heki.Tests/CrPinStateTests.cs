using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>The pure CR-pinning rules of docs/abi.md section 2, on <see cref="CrPinState"/> directly.</summary>
public sealed class CrPinStateTests
{
    [Fact]
    public void Allowed_masks_are_wp_for_cr0_and_smep_smap_umip_for_cr4_and_nothing_elsewhere()
    {
        Assert.Equal(0x00010000UL, CrPinState.Allowed(0));
        Assert.Equal(0x00300800UL, CrPinState.Allowed(4));
        Assert.Equal(0UL, CrPinState.Allowed(3));
        Assert.Equal(0UL, CrPinState.Allowed(8));
        Assert.True(CrPinState.IsPinnable(0));
        Assert.True(CrPinState.IsPinnable(4));
        Assert.False(CrPinState.IsPinnable(3));
        Assert.False(CrPinState.IsPinnable(8));
    }

    /// <summary>
    /// One guest request after a setup of accepted requests. Setup and request are
    /// "cr:high|low:value" strings; expected masks are CR0 low, CR0 high, CR4 low, CR4 high.
    /// </summary>
    [Theory]
    // accepted: adding pins, identical rewrite, zero when nothing is pinned
    [InlineData("", "0:high:0x10000", true, 0UL, 0x10000UL, 0UL, 0UL)]
    [InlineData("", "0:low:0x10000", true, 0x10000UL, 0UL, 0UL, 0UL)]
    [InlineData("", "4:high:0x300800", true, 0UL, 0UL, 0UL, 0x300800UL)]
    [InlineData("", "4:low:0", true, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("4:high:0x100000", "4:high:0x300000", true, 0UL, 0UL, 0UL, 0x300000UL)]
    [InlineData("4:high:0x100000", "4:high:0x100000", true, 0UL, 0UL, 0UL, 0x100000UL)]
    [InlineData("4:low:0x800", "4:high:0x300000", true, 0UL, 0UL, 0x800UL, 0x300000UL)]
    [InlineData("0:high:0x10000", "4:low:0x100000", true, 0UL, 0x10000UL, 0x100000UL, 0UL)]
    // refused: outside ALLOWED
    [InlineData("", "0:high:0x1", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "0:low:0x80010000", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "4:high:0x20", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "4:low:0x10000", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "4:high:0x100000000", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "3:high:0x0", false, 0UL, 0UL, 0UL, 0UL)]
    [InlineData("", "8:low:0x1", false, 0UL, 0UL, 0UL, 0UL)]
    // refused: both low and high
    [InlineData("0:high:0x10000", "0:low:0x10000", false, 0UL, 0x10000UL, 0UL, 0UL)]
    [InlineData("4:low:0x200000", "4:high:0x300000", false, 0UL, 0UL, 0x200000UL, 0UL)]
    // refused: clearing a pin
    [InlineData("4:high:0x300000", "4:high:0x100000", false, 0UL, 0UL, 0UL, 0x300000UL)]
    [InlineData("4:low:0x800", "4:low:0", false, 0UL, 0UL, 0x800UL, 0UL)]
    [InlineData("0:high:0x10000", "0:high:0", false, 0UL, 0x10000UL, 0UL, 0UL)]
    [InlineData("4:high:0x100000", "4:high:0x200800", false, 0UL, 0UL, 0UL, 0x100000UL)]
    public void Guest_requests_follow_the_rules(string setup, string request, bool accepted, ulong cr0Low, ulong cr0High, ulong cr4Low, ulong cr4High)
    {
        var pins = new CrPinState();
        foreach (var step in setup.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (c, h, v) = Parse(step);
            Assert.Null(pins.TryGuestSet(c, h, v));
        }
        var (cr, high, value) = Parse(request);
        string? refusal = pins.TryGuestSet(cr, high, value);
        Assert.Equal(accepted, refusal is null);
        if (!accepted) Assert.False(string.IsNullOrWhiteSpace(refusal));
        Assert.Equal((cr0Low, cr0High, cr4Low, cr4High), (pins.Cr0PinnedLow, pins.Cr0PinnedHigh, pins.Cr4PinnedLow, pins.Cr4PinnedHigh));
        Assert.Equal(cr0High, pins.PinnedHigh(0));
        Assert.Equal(cr4Low, pins.PinnedLow(4));
    }

    private static (int Cr, bool High, ulong Value) Parse(string s)
    {
        var parts = s.Split(':');
        return (int.Parse(parts[0]), parts[1] == "high", Convert.ToUInt64(parts[2], 16));
    }

    [Theory]
    [InlineData(4, 0x100620UL, false)]      // keeps SMEP
    [InlineData(4, 0x100E20UL, false)]      // keeps SMEP, sets unpinned UMIP
    [InlineData(4, 0x000620UL, true)]       // clears pinned-high SMEP
    [InlineData(4, 0x300620UL, true)]       // sets pinned-low SMAP
    [InlineData(0, 0x80010033UL, false)]    // keeps WP
    [InlineData(0, 0x80000033UL, true)]     // clears WP
    [InlineData(3, 0UL, false)]             // CR3 is never pinned
    public void Violates_reports_a_cleared_high_pin_or_a_set_low_pin(int cr, ulong value, bool violates)
    {
        var pins = new CrPinState();
        Assert.Null(pins.TryGuestSet(4, high: true, Smep));
        Assert.Null(pins.TryGuestSet(4, high: false, Smap));
        Assert.Null(pins.TryGuestSet(0, high: true, Wp));
        Assert.Equal(violates, pins.Violates(cr, value));
    }

    [Fact]
    public void Host_may_set_any_value_and_clear_drops_every_pin()
    {
        var pins = new CrPinState();
        pins.HostSet(0, high: true, 0x8001_0001);                 // PG, WP, PE: outside ALLOWED is fine for the host
        pins.HostSet(4, high: false, 0x20);
        Assert.Equal(0x8001_0001UL, pins.Cr0PinnedHigh);
        Assert.Equal(0x20UL, pins.Cr4PinnedLow);
        Assert.True(pins.Violates(4, 0x20));
        Assert.Throws<ArgumentOutOfRangeException>(() => pins.HostSet(3, high: true, 1));
        pins.Clear();
        Assert.Equal((0UL, 0UL, 0UL, 0UL), (pins.Cr0PinnedLow, pins.Cr0PinnedHigh, pins.Cr4PinnedLow, pins.Cr4PinnedHigh));
        Assert.False(pins.Violates(0, 0));
    }
}
