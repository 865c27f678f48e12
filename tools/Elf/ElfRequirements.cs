namespace HekiGuest.Elf;

/// <summary>
/// What a caller accepts beyond a well-formed little-endian x86 ELF (ELF32 i386 or ELF64 x86-64).
/// <see cref="ElfImage.Parse(byte[], ElfRequirements)"/> checks them in the order the ELF header
/// holds the fields, so a file that breaks several gets the first one's message.
/// </summary>
public sealed record ElfRequirements
{
    /// <summary>Any well-formed ELF32 i386 or ELF64 x86-64 image (hostsim's loader: multiboot1 kernels are ELF32).</summary>
    public static ElfRequirements AnyX86 { get; } = new();

    /// <summary>A non-PIE ELF64 x86-64 executable whose PT_LOAD segments and allocated sections stay inside the address space (sealcheck's kernel).</summary>
    public static ElfRequirements Elf64Executable { get; } = new() { Elf64Only = true, ExecutableOnly = true, RejectAddressWrap = true };

    /// <summary>An ELF32 file is an error.</summary>
    public bool Elf64Only { get; init; }

    /// <summary>Any type but ET_EXEC is an error.</summary>
    public bool ExecutableOnly { get; init; }

    /// <summary>A PT_LOAD segment or allocated section whose end passes 2^64 is an error (the loader reports it itself otherwise).</summary>
    public bool RejectAddressWrap { get; init; }
}
