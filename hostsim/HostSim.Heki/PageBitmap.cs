using System.Numerics;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// One bit per guest-physical page with a summary level (one bit per 64-page word), so "is any
/// page of this range set?" costs O(range / 4096) word tests: a PROTECT_MEMORY call that is
/// refused costs a few word tests per entry, never a pass over guest memory.
/// </summary>
internal sealed class PageBitmap
{
    private readonly ulong[] _words;
    private readonly ulong[] _summary;

    public PageBitmap(ulong pages)
    {
        _words = new ulong[(pages + 63) / 64];
        _summary = new ulong[(_words.Length + 63) / 64];
    }

    public void Set(ulong page, bool value)
    {
        ulong w = page >> 6;
        ulong bit = 1UL << (int)(page & 63);
        ref ulong word = ref _words[w];
        word = value ? word | bit : word & ~bit;
        ulong sbit = 1UL << (int)(w & 63);
        ref ulong s = ref _summary[w >> 6];
        s = word != 0 ? s | sbit : s & ~sbit;
    }

    /// <summary>True when some page in [first, first + count) is set.</summary>
    public bool Any(ulong first, ulong count)
    {
        if (count == 0) return false;
        ulong last = first + count - 1;
        ulong w0 = first >> 6, w1 = last >> 6;
        if (w0 == w1) return (_words[w0] & RangeMask(first & 63, last & 63)) != 0;
        if ((_words[w0] & RangeMask(first & 63, 63)) != 0 || (_words[w1] & RangeMask(0, last & 63)) != 0) return true;
        return AnyWord(w0 + 1, w1 - 1);
    }

    /// <summary>True when some word in [w0, w1] is non-zero (through the summary level).</summary>
    private bool AnyWord(ulong w0, ulong w1)
    {
        if (w0 > w1) return false;
        ulong s0 = w0 >> 6, s1 = w1 >> 6;
        if (s0 == s1) return (_summary[s0] & RangeMask(w0 & 63, w1 & 63)) != 0;
        if ((_summary[s0] & RangeMask(w0 & 63, 63)) != 0 || (_summary[s1] & RangeMask(0, w1 & 63)) != 0) return true;
        for (ulong s = s0 + 1; s < s1; s++)
        {
            if (_summary[s] != 0) return true;
        }
        return false;
    }

    /// <summary>Bits lo..hi (inclusive) of a word.</summary>
    private static ulong RangeMask(ulong lo, ulong hi) => (hi == 63 ? ulong.MaxValue : (1UL << (int)(hi + 1)) - 1) & ~((1UL << (int)lo) - 1);

    public void Clear()
    {
        Array.Clear(_words);
        Array.Clear(_summary);
    }

    /// <summary>How many pages are set (tests and diagnostics).</summary>
    public long Count()
    {
        long n = 0;
        foreach (var w in _words) n += BitOperations.PopCount(w);
        return n;
    }
}
