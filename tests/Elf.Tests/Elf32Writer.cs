using System.Buffers.Binary;
using System.Text;

namespace HekiGuest.Elf.Tests;

/// <summary>
/// Writes a small ELF32 i386 executable: one PT_LOAD with the code, one PT_NOTE with a Xen note,
/// and the sections .text, .note, .symtab, .strtab, .shstrtab (symbols: "start", a function, and
/// "data_label", an object). Offsets are public so tests can corrupt precise fields.
/// </summary>
internal static class Elf32Writer
{
    public const uint TextAddress = 0x100000;
    public const int ProgramHeaders = 52;
    public const int Text = 0x100;
    public const int Note = 0x120;
    public const int SymbolTable = 0x140;
    public const int StringTable = 0x170;
    public const int NameTable = 0x190;
    public const int SectionHeaders = 0x1C0;
    public const uint NoteType = 18;
    public const uint NoteDescriptor = 0x100010;
    public const ushort Machine = 3;

    private static readonly byte[] Code = [0x90, 0x90, 0xF4, 0xEB, 0xFD, 0xC3, 0x00, 0x00];

    public static byte[] Build()
    {
        var f = new byte[SectionHeaders + (6 * 40)];
        var o = f.AsSpan();
        o[0] = 0x7F; o[1] = (byte)'E'; o[2] = (byte)'L'; o[3] = (byte)'F';
        o[4] = 1;                                           // ELFCLASS32
        o[5] = 1;                                           // little-endian
        o[6] = 1;                                           // EV_CURRENT
        U16(o, 16, 2);                                      // ET_EXEC
        U16(o, 18, Machine);
        U32(o, 20, 1);
        U32(o, 24, TextAddress);                            // e_entry
        U32(o, 28, ProgramHeaders);                         // e_phoff
        U32(o, 32, SectionHeaders);                         // e_shoff
        U16(o, 40, 52);
        U16(o, 42, 32);
        U16(o, 44, 2);
        U16(o, 46, 40);
        U16(o, 48, 6);
        U16(o, 50, 5);                                      // e_shstrndx

        ProgramHeader(o, 0, type: 1, offset: Text, address: TextAddress, size: (uint)Code.Length, memorySize: 0x1000, flags: 5);
        ProgramHeader(o, 1, type: 4, offset: Note, address: 0, size: 20, memorySize: 20, flags: 4);
        Code.CopyTo(o[Text..]);

        U32(o, Note, 4);                                    // namesz
        U32(o, Note + 4, 4);                                // descsz
        U32(o, Note + 8, NoteType);
        "Xen\0"u8.CopyTo(o[(Note + 12)..]);
        U32(o, Note + 16, NoteDescriptor);

        byte[] strings = Encoding.ASCII.GetBytes("\0start\0data_label\0");
        strings.CopyTo(o[StringTable..]);
        Symbol(o, 1, name: 1, value: TextAddress, size: 5, info: 0x12, section: 1);      // global FUNC in .text
        Symbol(o, 2, name: 7, value: TextAddress + 6, size: 2, info: 0x01, section: 1);  // local OBJECT

        byte[] names = Encoding.ASCII.GetBytes("\0.text\0.note\0.symtab\0.strtab\0.shstrtab\0");
        names.CopyTo(o[NameTable..]);
        Section(o, 1, name: 1, type: 1, flags: 6, address: TextAddress, offset: Text, size: (uint)Code.Length, link: 0, entrySize: 0);
        Section(o, 2, name: 7, type: 7, flags: 2, address: 0, offset: Note, size: 20, link: 0, entrySize: 0);
        Section(o, 3, name: 13, type: 2, flags: 0, address: 0, offset: SymbolTable, size: 48, link: 4, entrySize: 16);
        Section(o, 4, name: 21, type: 3, flags: 0, address: 0, offset: StringTable, size: (uint)strings.Length, link: 0, entrySize: 0);
        Section(o, 5, name: 29, type: 3, flags: 0, address: 0, offset: NameTable, size: (uint)names.Length, link: 0, entrySize: 0);
        return f;
    }

    private static void ProgramHeader(Span<byte> o, int index, uint type, uint offset, uint address, uint size, uint memorySize, uint flags) =>
        Words(o, ProgramHeaders + (index * 32), type, offset, address, address, size, memorySize, flags, 0x1000);

    private static void Symbol(Span<byte> o, int index, uint name, uint value, uint size, byte info, ushort section)
    {
        var s = o[(SymbolTable + (index * 16))..];
        U32(s, 0, name);
        U32(s, 4, value);
        U32(s, 8, size);
        s[12] = info;
        U16(s, 14, section);
    }

    private static void Section(Span<byte> o, int index, uint name, uint type, uint flags, uint address, uint offset, uint size, uint link, uint entrySize) =>
        Words(o, SectionHeaders + (index * 40), name, type, flags, address, offset, size, link, 0, 1, entrySize);

    /// <summary>Consecutive little-endian 32-bit words from <paramref name="at"/>.</summary>
    private static void Words(Span<byte> o, int at, params uint[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            U32(o, at + (4 * i), values[i]);
        }
    }

    private static void U16(Span<byte> o, int at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(o[at..], value);

    private static void U32(Span<byte> o, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(o[at..], value);
}
