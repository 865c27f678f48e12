using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Maps an address to "nearest preceding FUNC/NOTYPE symbol + offset" using .symtab.</summary>
public sealed class SymbolResolver
{
    private readonly ulong[] _values;
    private readonly string[] _names;

    public SymbolResolver(IReadOnlyList<ElfSymbol>? symbols)
    {
        // Candidates: defined code labels. At equal addresses prefer FUNC, then global, then the
        // shorter name (linker-script markers such as __text_start lose to the function there).
        var labels = (symbols ?? [])
            .Where(s => s.IsDefined && s.IsCodeLabel && s.Name.Length > 0 && !s.Name.StartsWith(".L", StringComparison.Ordinal))
            .OrderBy(s => s.Value)
            .ThenBy(s => s.Type == ElfConstants.SttFunc ? 0 : 1)
            .ThenBy(s => s.Binding == 0 ? 1 : 0)
            .ThenBy(s => s.Name.StartsWith("__", StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        var values = new List<ulong>(labels.Count);
        var names = new List<string>(labels.Count);
        foreach (ElfSymbol label in labels)
        {
            if (values.Count > 0 && values[^1] == label.Value)
            {
                continue;
            }

            values.Add(label.Value);
            names.Add(label.Name);
        }

        _values = [.. values];
        _names = [.. names];
        HasSymbols = symbols is not null;
    }

    public bool HasSymbols { get; }

    /// <summary>"&lt;name+0x1c&gt;", "&lt;name&gt;" or "&lt;?&gt;" when nothing precedes the address.</summary>
    public string Describe(ulong address)
    {
        int index = Array.BinarySearch(_values, address);
        if (index < 0)
        {
            index = ~index - 1;
        }

        if (index < 0)
        {
            return "<?>";
        }

        ulong offset = address - _values[index];
        return offset == 0 ? $"<{_names[index]}>" : $"<{_names[index]}+0x{offset:x}>";
    }
}
