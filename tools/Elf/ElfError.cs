namespace HekiGuest.Elf;

/// <summary>A malformed or unsupported ELF file. The message is one line naming the problem.</summary>
public sealed class ElfError(string message) : Exception(message);
