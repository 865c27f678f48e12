using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// Checks the placement contract of .heki.sealed: page-aligned start and (page-rounded) end, linker
/// symbols that match, and sole occupant of its own read-only executable PT_LOAD segment, sharing
/// no page with any other section or segment.
/// </summary>
public static class SealedLayoutChecker
{
    public const string StartSymbol = "__heki_sealed_start";
    public const string EndSymbol = "__heki_sealed_end";

    public static IReadOnlyList<Violation> Check(ElfImage elf, ElfSection sealedSection)
    {
        var found = new List<Violation>();
        void Fail(string message) => found.Add(new Violation(ViolationKind.Layout, null, $"layout: {message}"));

        string name = sealedSection.Name;
        ulong start = sealedSection.Address;
        ulong end = sealedSection.EndAddress;
        ulong pagesEnd = RoundUpToPage(end);
        var pages = new AddressRange(start, pagesEnd);

        if (!sealedSection.IsAllocated)
        {
            Fail($"{name} is not allocated (no SHF_ALLOC): it is not loaded at all");
            return found;
        }

        if (sealedSection.Size == 0)
        {
            Fail($"{name} is empty");
            return found;
        }

        if (start % ElfConstants.PageSize != 0)
        {
            Fail($"{name} starts at 0x{start:x}, which is not 4 KiB aligned");
        }

        if (!sealedSection.HasFileContents)
        {
            Fail($"{name} has no file contents (SHT_NOBITS)");
        }

        if (!sealedSection.IsExecutable)
        {
            Fail($"{name} is not marked executable (SHF_EXECINSTR missing)");
        }

        if (sealedSection.IsWritable)
        {
            Fail($"{name} is writable (SHF_WRITE): sealed code must be read-only");
        }

        CheckSymbols(elf, sealedSection, pagesEnd, Fail);

        List<ElfSegment> loads = [.. elf.Segments.Where(s => s.IsLoad && s.MemorySize > 0)];
        List<ElfSegment> covering = [.. loads.Where(s => s.VirtualAddress <= start && end <= s.EndAddress)];
        ElfSegment? home = covering.Count == 1 ? covering[0] : null;
        if (covering.Count == 0)
        {
            Fail($"{name} 0x{start:x}-0x{end:x} is not contained in any single PT_LOAD segment");
        }
        else if (covering.Count > 1)
        {
            Fail($"{name} is covered by {covering.Count} PT_LOAD segments ({string.Join(", ", covering.Select(s => s.Name))})");
        }

        if (home is not null)
        {
            CheckHomeSegment(sealedSection, home, pagesEnd, Fail);
        }

        var occupied = home is null ? pages : new AddressRange(Math.Min(start, home.VirtualAddress), Math.Max(pagesEnd, RoundUpToPage(home.EndAddress)));
        foreach (ElfSegment other in loads.Where(s => s != home))
        {
            var otherPages = new AddressRange(RoundDownToPage(other.VirtualAddress), RoundUpToPage(other.EndAddress));
            if (otherPages.Overlaps(pages))
            {
                Fail($"{other.Name} ({other.FlagText} 0x{other.VirtualAddress:x}-0x{other.EndAddress:x}) shares a page with {name} (0x{start:x}-0x{pagesEnd:x})");
            }
        }

        foreach (ElfSection other in elf.Sections)
        {
            if (other.Index == sealedSection.Index || !other.IsAllocated || other.Size == 0 || IsTbss(other))
            {
                continue;
            }

            var otherRange = new AddressRange(other.Address, other.EndAddress);
            if (otherRange.Overlaps(occupied))
            {
                string where = home is not null && otherRange.Overlaps(new AddressRange(home.VirtualAddress, home.EndAddress))
                    ? $"shares {home.Name} with {name}"
                    : $"lies in the pages of {name} (0x{start:x}-0x{pagesEnd:x})";
                Fail($"section {other.Name} (0x{other.Address:x}-0x{other.EndAddress:x}) {where}");
            }
        }

        return found;
    }

    private static void CheckSymbols(ElfImage elf, ElfSection sealedSection, ulong pagesEnd, Action<string> fail)
    {
        if (elf.Symbols is null)
        {
            return; // Stripped: the section headers alone are checked; the report notes it.
        }

        ElfSymbol? startSymbol = elf.Symbols.FirstOrDefault(s => s.IsDefined && s.Name == StartSymbol);
        ElfSymbol? endSymbol = elf.Symbols.FirstOrDefault(s => s.IsDefined && s.Name == EndSymbol);
        if (startSymbol is null)
        {
            fail($"symbol {StartSymbol} is missing");
        }
        else if (startSymbol.Value != sealedSection.Address)
        {
            fail($"{StartSymbol} is 0x{startSymbol.Value:x} but {sealedSection.Name} starts at 0x{sealedSection.Address:x}");
        }

        if (endSymbol is null)
        {
            fail($"symbol {EndSymbol} is missing");
        }
        else if (endSymbol.Value % ElfConstants.PageSize != 0)
        {
            fail($"{EndSymbol} is 0x{endSymbol.Value:x}, which is not 4 KiB aligned");
        }
        else if (endSymbol.Value != pagesEnd)
        {
            fail($"{EndSymbol} is 0x{endSymbol.Value:x} but {sealedSection.Name} ends at 0x{sealedSection.EndAddress:x} (page-rounded 0x{pagesEnd:x})");
        }
    }

    private static void CheckHomeSegment(ElfSection sealedSection, ElfSegment home, ulong pagesEnd, Action<string> fail)
    {
        string name = sealedSection.Name;
        if (home.VirtualAddress != sealedSection.Address)
        {
            fail($"{name} does not have its own segment: {home.Name} starts at 0x{home.VirtualAddress:x}, below the section start 0x{sealedSection.Address:x}");
        }

        if (RoundUpToPage(home.EndAddress) != pagesEnd)
        {
            fail($"{name} does not have its own segment: {home.Name} ends at 0x{home.EndAddress:x}, past the section's last page (0x{pagesEnd:x})");
        }

        if (!home.IsExecutable)
        {
            fail($"{home.Name} holding {name} is not executable (flags {home.FlagText})");
        }

        if (home.IsWritable)
        {
            fail($"{home.Name} holding {name} is writable (flags {home.FlagText}): sealed code must be R+X only");
        }

        if (sealedSection.HasFileContents && home.VirtualAddress <= sealedSection.Address
            && sealedSection.Offset - home.Offset != sealedSection.Address - home.VirtualAddress)
        {
            fail($"{name} file offset 0x{sealedSection.Offset:x} does not match its place in {home.Name} (file offset 0x{home.Offset:x}, address 0x{home.VirtualAddress:x})");
        }
    }

    private static bool IsTbss(ElfSection section) =>
        section.Type == ElfConstants.ShtNobits && (section.Flags & ElfConstants.ShfTls) != 0;

    public static ulong RoundUpToPage(ulong value) =>
        value > ulong.MaxValue - (ElfConstants.PageSize - 1) ? ulong.MaxValue & ~(ElfConstants.PageSize - 1) : (value + ElfConstants.PageSize - 1) & ~(ElfConstants.PageSize - 1);

    public static ulong RoundDownToPage(ulong value) => value & ~(ElfConstants.PageSize - 1);
}
