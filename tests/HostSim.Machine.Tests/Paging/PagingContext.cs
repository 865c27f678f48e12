namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>The processor state that decides a page walk's outcome besides the entries themselves.</summary>
internal readonly record struct PagingContext(int Cpl, bool Wp, bool Smep, bool Smap, bool Ac, bool Nxe)
{
    public override string ToString() =>
        $"CPL{Cpl} WP={B(Wp)} SMEP={B(Smep)} SMAP={B(Smap)} AC={B(Ac)} NXE={B(Nxe)}";

    private static int B(bool v) => v ? 1 : 0;

    public static IEnumerable<PagingContext> All()
    {
        foreach (int cpl in new[] { 0, 3 })
        foreach (bool wp in new[] { false, true })
        foreach (bool smep in new[] { false, true })
        foreach (bool smap in new[] { false, true })
        foreach (bool ac in new[] { false, true })
        foreach (bool nxe in new[] { false, true })
            yield return new PagingContext(cpl, wp, smep, smap, ac, nxe);
    }
}
