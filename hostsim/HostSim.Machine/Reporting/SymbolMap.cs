using HekiGuest.Elf;

namespace HekiGuest.HostSim.Machine.Reporting;

/// <summary>Nearest-symbol lookup over a kernel ELF's function and label symbols.</summary>
public sealed class SymbolMap
{
    private readonly ulong[] _addresses;
    private readonly string[] _names;

    public SymbolMap(IEnumerable<ElfSymbol> symbols)
    {
        var list = symbols.Where(s => (s.Type == 2 || s.Type == 0) && s.SectionIndex != 0 && s.SectionIndex < 0xFF00 && s.Name.Length > 0)
            .OrderBy(s => s.Value).ToList();
        _addresses = list.Select(s => s.Value).ToArray();
        _names = list.Select(s => s.Name).ToArray();
    }

    public static SymbolMap Empty { get; } = new([]);

    public int Count => _names.Length;

    public string Describe(ulong address)
    {
        int i = Array.BinarySearch(_addresses, address);
        if (i < 0) i = ~i - 1;
        if (i < 0) return $"0x{address:x}";
        ulong off = address - _addresses[i];
        return off == 0 ? _names[i] : $"{_names[i]}+0x{off:x}";
    }
}
