namespace HekiGuest.Elf;

/// <summary>One note from a PT_NOTE segment.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Descriptor);
