using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// Verifies a kernel ELF against the sealing contract: layout of .heki.sealed, no sealed-class
/// instruction outside it in the linear sweep, and none hidden at any byte offset outside it.
/// </summary>
public static class KernelVerifier
{
    public const string SealedSectionName = ".heki.sealed";

    /// <exception cref="KernelContractException">The ELF cannot be verified (exit code 2).</exception>
    public static VerificationReport Verify(ElfImage elf, VerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(elf);
        options ??= VerifierOptions.Default;
        if (elf.Sections.Count == 0)
        {
            throw new KernelContractException($"no section headers, so no {SealedSectionName} section");
        }

        List<ElfSection> sealedSections = [.. elf.Sections.Where(s => s.Name == SealedSectionName)];
        if (sealedSections.Count == 0)
        {
            throw new KernelContractException($"no {SealedSectionName} section");
        }

        if (sealedSections.Count > 1)
        {
            throw new KernelContractException($"{sealedSections.Count} sections are named {SealedSectionName}; expected exactly one");
        }

        ElfSection sealedSection = sealedSections[0];
        var sealedRange = new AddressRange(sealedSection.Address, sealedSection.EndAddress);
        IReadOnlyList<Code32Range> code32 = Code32RangeFinder.Find(elf.Symbols);
        IReadOnlyList<ExecutableRegion> regions = ExecutableRegion.Build(elf);
        foreach (Code32Range range in code32.Where(r => !r.Range.IsEmpty))
        {
            if (!regions.Any(region => region.Range.Start <= range.Range.Start && range.Range.End <= region.Range.End))
            {
                throw new KernelContractException($"32-bit range {range.StartSymbol}..{range.EndSymbol} ({range.Range}) is not inside an executable segment");
            }
        }

        var notes = new List<string>();
        if (elf.Symbols is null)
        {
            notes.Add("no .symtab (stripped): no symbol names, no 32-bit ranges known, sealed start/end symbols not checked; the every-offset scan still decodes both bitnesses");
        }

        foreach (ElfSegment segment in regions.SelectMany(r => r.Segments))
        {
            ulong tail = SealedLayoutChecker.RoundUpToPage(segment.EndAddress) - segment.EndAddress;
            if (tail != 0)
            {
                notes.Add($"{segment.Name} ends at 0x{segment.EndAddress:x}: the last {tail} bytes of its page are not in the ELF and were not scanned; if that page is mapped executable, pad the segment to the page end or zero those bytes at boot");
            }
        }

        var violations = new List<Violation>(SealedLayoutChecker.Check(elf, sealedSection));
        var symbols = new SymbolResolver(elf.Symbols);
        var text = new InstructionText();
        var summaries = new List<SectionSummary>();
        ulong bytesScanned = 0;
        long gadgetDecodes = 0;
        foreach (ExecutableRegion region in regions)
        {
            var scanner = new RegionScanner(region, elf.Sections, code32, sealedRange, symbols, text, violations);
            scanner.Sweep();
            scanner.ScanEveryOffset(options.ScanOtherBitness, options.FullDecode);
            summaries.AddRange(scanner.Summaries);
            bytesScanned += (ulong)region.Bytes.Length;
            gadgetDecodes += scanner.GadgetDecodes;
        }

        if (!summaries.Any(s => s.IsSealed))
        {
            violations.Add(new Violation(ViolationKind.Layout, null,
                $"layout: {SealedSectionName} ({sealedRange}) is not in any executable PT_LOAD segment"));
        }

        return new VerificationReport
        {
            Sections = summaries,
            Violations = [.. violations.OrderBy(v => v.Address.HasValue).ThenBy(v => v.Address)],
            Code32Ranges = code32,
            Notes = notes,
            SealedRange = sealedRange,
            BytesScanned = bytesScanned,
            GadgetDecodes = gadgetDecodes,
        };
    }
}
