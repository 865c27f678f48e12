using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// What a higher VTL allows a lower one to do with each 4 KiB guest-physical page (docs/vtl.md
/// section 9): the <see cref="HvMapGpa"/> bits READ, WRITE, KERNEL_EXECUTE, USER_EXECUTE. Pages
/// never named by ModifyVtlProtectionMask have the default mask of VsmPartitionConfig. Nothing
/// is enforced until the higher VTL enables VTL protection.
/// </summary>
public sealed class VtlProtectionMap(ulong memorySize)
{
    private const byte Named = 0x80;
    private const int PageShift = 12;
    private readonly byte[] _pages = new byte[memorySize >> PageShift];

    /// <summary>VsmPartitionConfig.EnableVtlProtection was set: the map is enforced.</summary>
    public bool Enabled { get; private set; }

    /// <summary>The mask of every page ModifyVtlProtectionMask has not named.</summary>
    public uint DefaultMask { get; private set; } = HvMapGpa.All;

    /// <summary>Pages named so far.</summary>
    public long NamedPages { get; private set; }

    public ulong PageCount => (ulong)_pages.Length;

    /// <summary>The mask of the page holding <paramref name="physical"/> (all rights outside RAM:
    /// the walker turns those accesses into #MC before asking).</summary>
    public uint MaskOf(ulong physical)
    {
        ulong page = physical >> PageShift;
        if (page >= (ulong)_pages.Length) return HvMapGpa.All;
        byte p = _pages[page];
        return (p & Named) != 0 ? (uint)(p & HvMapGpa.All) : DefaultMask;
    }

    /// <summary>Enforcement is on and the page lacks <paramref name="right"/>.</summary>
    public bool Denies(ulong physical, uint right) => Enabled && (MaskOf(physical) & right) != right;

    internal void Enable(uint defaultMask)
    {
        Enabled = true;
        DefaultMask = defaultMask;
    }

    /// <summary>Gives page number <paramref name="page"/> (in RAM, checked by the caller) <paramref name="mask"/>.</summary>
    internal void Set(ulong page, uint mask)
    {
        if ((_pages[page] & Named) == 0) NamedPages++;
        _pages[page] = (byte)(Named | mask);
    }

    /// <summary>VM reset: no protection, every page back to the default.</summary>
    internal void Reset()
    {
        Array.Clear(_pages);
        Enabled = false;
        DefaultMask = HvMapGpa.All;
        NamedPages = 0;
    }
}
