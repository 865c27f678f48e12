namespace HekiGuest.Elf;

public enum ElfClass : byte
{
    Elf32 = 1,
    Elf64 = 2,
}
