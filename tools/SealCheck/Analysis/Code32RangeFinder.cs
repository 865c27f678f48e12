using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Pairs __heki_code32_start{S} with __heki_code32_end{S} symbols into 32-bit code ranges.</summary>
public static class Code32RangeFinder
{
    public static IReadOnlyList<Code32Range> Find(IReadOnlyList<ElfSymbol>? symbols)
    {
        if (symbols is null)
        {
            return [];
        }

        Dictionary<string, ulong> starts = Collect(symbols, Code32Range.StartPrefix);
        Dictionary<string, ulong> ends = Collect(symbols, Code32Range.EndPrefix);
        var ranges = new List<Code32Range>();
        foreach ((string suffix, ulong start) in starts.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!ends.TryGetValue(suffix, out ulong end))
            {
                throw new KernelContractException($"unmatched 32-bit range symbol {Code32Range.StartPrefix}{suffix} (no {Code32Range.EndPrefix}{suffix})");
            }

            if (end < start)
            {
                throw new KernelContractException($"32-bit range {suffix}: {Code32Range.EndPrefix}{suffix} (0x{end:x}) is below {Code32Range.StartPrefix}{suffix} (0x{start:x})");
            }

            ranges.Add(new Code32Range(suffix, new AddressRange(start, end)));
        }

        foreach (string suffix in ends.Keys.Order(StringComparer.Ordinal))
        {
            if (!starts.ContainsKey(suffix))
            {
                throw new KernelContractException($"unmatched 32-bit range symbol {Code32Range.EndPrefix}{suffix} (no {Code32Range.StartPrefix}{suffix})");
            }
        }

        return ranges;
    }

    private static Dictionary<string, ulong> Collect(IReadOnlyList<ElfSymbol> symbols, string prefix)
    {
        var found = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (ElfSymbol symbol in symbols)
        {
            if (!symbol.IsDefined || !symbol.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            string suffix = symbol.Name[prefix.Length..];
            if (found.TryGetValue(suffix, out ulong previous) && previous != symbol.Value)
            {
                throw new KernelContractException($"symbol {symbol.Name} is defined twice with different values (0x{previous:x} and 0x{symbol.Value:x})");
            }

            found[suffix] = symbol.Value;
        }

        return found;
    }
}
