using HekiGuest.Abi;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// The per-VM CR pins and their rules (docs/abi.md section 2): which bits may be pinned, the
/// PINNED_LOW/HIGH masks of CR0 and CR4, what a guest may change (only add pins within the
/// ALLOWED mask, never a bit both low and high) and whether a CR value violates a pin.
/// </summary>
public sealed class CrPinState
{
    public ulong Cr0PinnedLow { get; private set; }
    public ulong Cr0PinnedHigh { get; private set; }
    public ulong Cr4PinnedLow { get; private set; }
    public ulong Cr4PinnedHigh { get; private set; }

    public static bool IsPinnable(int cr) => cr is 0 or 4;

    /// <summary>The bits a guest may pin in CR0 (cr = 0) or CR4 (cr = 4).</summary>
    public static ulong Allowed(int cr) => cr switch
    {
        0 => HekiCrBits.Cr0Allowed,
        4 => HekiCrBits.Cr4Allowed,
        _ => 0,
    };

    public ulong PinnedHigh(int cr) => cr == 0 ? Cr0PinnedHigh : cr == 4 ? Cr4PinnedHigh : 0;

    public ulong PinnedLow(int cr) => cr == 0 ? Cr0PinnedLow : cr == 4 ? Cr4PinnedLow : 0;

    /// <summary>True when writing <paramref name="value"/> to CR<paramref name="cr"/> would clear
    /// a bit pinned high or set a bit pinned low.</summary>
    public bool Violates(int cr, ulong value) =>
        (value & PinnedHigh(cr)) != PinnedHigh(cr) || (value & PinnedLow(cr)) != 0;

    /// <summary>
    /// A guest's request to set a PINNED mask (MSR write or LOCK_CR). Null when accepted (and
    /// applied); otherwise why it is refused, and nothing changes.
    /// </summary>
    public string? TryGuestSet(int cr, bool high, ulong value)
    {
        if (!IsPinnable(cr)) return $"CR{cr} cannot be pinned";
        ulong allowed = Allowed(cr);
        if ((value & ~allowed) != 0) return $"bits 0x{value & ~allowed:x} are outside CR{cr}_PIN_ALLOWED 0x{allowed:x}";
        ulong other = high ? PinnedLow(cr) : PinnedHigh(cr);
        if ((value & other) != 0) return $"bits 0x{value & other:x} are already pinned {(high ? "low" : "high")}";
        ulong current = high ? PinnedHigh(cr) : PinnedLow(cr);
        if ((current & ~value) != 0) return $"the write would remove the pins 0x{current & ~value:x}";
        Set(cr, high, value);
        return null;
    }

    /// <summary>Host userspace sets a mask directly (pre-pinning, migration): any bits, no rules.</summary>
    public void HostSet(int cr, bool high, ulong value)
    {
        if (!IsPinnable(cr)) throw new ArgumentOutOfRangeException(nameof(cr), cr, "only CR0 and CR4 can be pinned");
        Set(cr, high, value);
    }

    /// <summary>VM reset: every pin goes.</summary>
    public void Clear() => Cr0PinnedLow = Cr0PinnedHigh = Cr4PinnedLow = Cr4PinnedHigh = 0;

    private void Set(int cr, bool high, ulong value)
    {
        switch ((cr, high))
        {
            case (0, false): Cr0PinnedLow = value; break;
            case (0, true): Cr0PinnedHigh = value; break;
            case (4, false): Cr4PinnedLow = value; break;
            default: Cr4PinnedHigh = value; break;
        }
    }
}
