namespace HekiGuest.Elf;

/// <summary>A symbol from .symtab: name, value, size and type (0 notype, 1 object, 2 func).</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, byte Type, ushort SectionIndex);
