namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// A well-formed ELF that does not follow the kernel ELF contract closely enough to be verified
/// (no .heki.sealed section, unmatched 32-bit range symbols, ...). The CLI maps it to exit code 2.
/// </summary>
public sealed class KernelContractException(string message) : Exception(message);
