namespace HekiGuest.Elf;

/// <summary>
/// The input is not a well-formed little-endian x86 ELF, or breaks the caller's
/// <see cref="ElfRequirements"/>. The message is one line naming the problem: sealcheck prints it
/// with exit code 2, hostsim's loader prefixes it with "kernel image: " (exit code 2 too).
/// </summary>
public sealed class ElfFormatException(string message) : Exception(message);
