using System.Text;
using HekiGuest.HostSim.Cpu;
using static HekiGuest.HostSim.Machine.Tests.Paging.PageTableBuilder;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>
/// In the spirit of kvm-unit-tests' access test: every combination of P/RW/US/NX in the PTE and
/// the PDE x CPL x CR0.WP x CR4.SMEP x CR4.SMAP x RFLAGS.AC x EFER.NXE x access kind, translated by
/// <see cref="Machine.Paging.PagingTranslator"/> and compared with <see cref="PagingOracle"/>:
/// outcome, #PF error code, physical address, and accessed/dirty bits written back.
/// </summary>
public sealed class AccessTableTests
{
    private static readonly ulong[] FlagCombos = Enumerable.Range(0, 16).Select(i =>
        ((i & 1) != 0 ? Present : 0) | ((i & 2) != 0 ? Writable : 0) | ((i & 4) != 0 ? User : 0) | ((i & 8) != 0 ? NoExecute : 0)).ToArray();

    public static TheoryData<AccessKind, int> KindsAndCpls()
    {
        var data = new TheoryData<AccessKind, int>();
        foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Execute })
            foreach (int cpl in new[] { 0, 3 })
                data.Add(kind, cpl);
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndCpls))]
    public void Leaf_and_pde_flags_against_the_sdm_oracle(AccessKind kind, int cpl)
    {
        using var rig = new PagingRig();
        var failures = new List<string>();
        int cases = 0, faults = 0;
        foreach (var c in PagingContext.All().Where(x => x.Cpl == cpl))
        foreach (ulong pde in FlagCombos)
        foreach (ulong pte in FlagCombos)
        {
            cases++;
            rig.Enter(c);
            rig.Tables.Map4K(AllowAll, AllowAll, pde, pte);
            ulong[] before = [AllowAll | Pdpt, AllowAll | Pd, pde | Pt, pte | Page];
            var expected = rig.Expect(before, Linear, kind, c);
            var actual = rig.Translate(Linear, kind);
            if (!expected.Ok) faults++;
            string where = $"{kind} {c} PDE={Flags(pde)} PTE={Flags(pte)}";
            if (actual != expected)
            {
                failures.Add($"{where}: expected {expected}, got {actual}");
                continue;
            }
            if (expected.Ok) CheckAccessedDirty(rig, before, kind == AccessKind.Write, where, failures);
            else if ((rig.Tables.Read(EntryAddress(1)) & Dirty) != 0) failures.Add($"{where}: faulting access set the PTE's dirty bit");
        }
        Assert.Equal(16 * 16 * 32, cases);
        Assert.InRange(faults, 1, cases - 1);       // the table exercises both outcomes
        Assert.True(failures.Count == 0, Report(failures, cases));
    }

    [Fact]
    public void Upper_levels_user_and_writable_bits_count_like_the_leaf()
    {
        // A supervisor-only or read-only PML4E / PDPTE restricts the whole walk (4.6: "all levels").
        using var rig = new PagingRig();
        var failures = new List<string>();
        foreach (var c in PagingContext.All())
        foreach (var kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Execute })
        foreach (int level in new[] { 4, 3 })
        foreach (ulong flags in FlagCombos.Where(f => (f & Present) != 0))
        {
            rig.Enter(c);
            ulong pml4 = level == 4 ? flags : AllowAll, pdpt = level == 3 ? flags : AllowAll;
            rig.Tables.Map4K(pml4, pdpt, AllowAll, AllowAll);
            ulong[] before = [pml4 | Pdpt, pdpt | Pd, AllowAll | Pt, AllowAll | Page];
            var expected = rig.Expect(before, Linear, kind, c);
            var actual = rig.Translate(Linear, kind);
            if (actual != expected) failures.Add($"{kind} {c} level {level} flags={Flags(flags)}: expected {expected}, got {actual}");
        }
        Assert.True(failures.Count == 0, Report(failures, 64 * 3 * 2 * 8));
    }

    private static void CheckAccessedDirty(PagingRig rig, ulong[] before, bool write, string where, List<string> failures)
    {
        for (int level = 4; level >= 1; level--)
        {
            ulong old = before[4 - level];
            ulong want = old | Accessed | (level == 1 && write ? Dirty : 0);
            ulong now = rig.Tables.Read(EntryAddress(level));
            if (now != want) failures.Add($"{where}: level-{level} entry 0x{old:x} became 0x{now:x}, expected 0x{want:x}");
        }
    }

    internal static string Flags(ulong e) =>
        ((e & Present) != 0 ? "P" : "-") + ((e & Writable) != 0 ? "W" : "-") + ((e & User) != 0 ? "U" : "-") + ((e & NoExecute) != 0 ? "X" : "-");

    internal static string Report(List<string> failures, int cases)
    {
        var sb = new StringBuilder($"{failures.Count} of {cases} cases disagree with the SDM oracle:\n");
        foreach (var f in failures.Take(25)) sb.AppendLine(f);
        return sb.ToString();
    }
}
