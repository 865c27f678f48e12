namespace HekiGuest.Tools.SealCheck.Elf;

/// <summary>
/// The input is not a well-formed ELF64 x86-64 executable (or is one this tool does not accept).
/// The message is one line naming the problem; the CLI maps it to exit code 2.
/// </summary>
public sealed class ElfFormatException(string message) : Exception(message);
