namespace HekiGuest.Elf;

/// <summary>EI_CLASS: 32-bit (i386) or 64-bit (x86-64) ELF.</summary>
public enum ElfClass : byte
{
    Elf32 = 1,
    Elf64 = 2,
}
