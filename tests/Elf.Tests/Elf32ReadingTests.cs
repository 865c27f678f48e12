using System.Buffers.Binary;

namespace HekiGuest.Elf.Tests;

/// <summary>ELF32 i386, which hostsim's multiboot1 path loads, through the same reader as sealcheck's ELF64 kernels.</summary>
public sealed class Elf32ReadingTests
{
    [Fact]
    public void HeaderSegmentsSectionsSymbolsAndNotesAreRead()
    {
        ElfImage elf = ElfImage.Parse(Elf32Writer.Build());

        Assert.Equal(ElfClass.Elf32, elf.Class);
        Assert.Equal(ElfConstants.MachineX86, elf.Machine);
        Assert.Equal(ElfConstants.TypeExecutable, elf.Type);
        Assert.Equal(Elf32Writer.TextAddress, elf.Entry);

        Assert.Collection(
            elf.Segments,
            load =>
            {
                Assert.True(load.IsLoad);
                Assert.Equal("R-X", load.FlagText);
                Assert.Equal((ulong)Elf32Writer.Text, load.Offset);
                Assert.Equal(0x1000UL, load.MemorySize);
                Assert.Equal(0x1000UL, load.Alignment);
            },
            note => Assert.True(note.IsNote));

        Assert.Equal(["", ".text", ".note", ".symtab", ".strtab", ".shstrtab"], elf.Sections.Select(s => s.Name));
        ElfSection text = elf.Sections[1];
        Assert.True(text.IsAllocated && text.IsExecutable && !text.IsWritable);
        Assert.Equal(Elf32Writer.TextAddress, text.Address);

        Assert.NotNull(elf.Symbols);
        Assert.Collection(
            elf.Symbols,
            start => Assert.Equal(new ElfSymbol("start", Elf32Writer.TextAddress, 5, ElfConstants.SttFunc, 1, 1), start),
            data => Assert.Equal(new ElfSymbol("data_label", Elf32Writer.TextAddress + 6, 2, ElfConstants.SttObject, 0, 1), data));

        ElfNote xen = Assert.Single(elf.Notes());
        Assert.Equal("Xen", xen.Name);
        Assert.Equal(Elf32Writer.NoteType, xen.Type);
        Assert.Equal(Elf32Writer.NoteDescriptor, BinaryPrimitives.ReadUInt32LittleEndian(xen.Descriptor));
        Assert.Equal([0x90, 0x90], elf.FileBytes(Elf32Writer.Text, 2).ToArray());
    }

    [Fact]
    public void Elf32IsRefusedWhereOnlyAnElf64KernelWillDo()
    {
        var e = Assert.Throws<ElfFormatException>(() => ElfImage.Parse(Elf32Writer.Build(), ElfRequirements.Elf64Executable));

        Assert.Equal("32-bit ELF (ELFCLASS32) is not supported: the kernel must be ELF64 x86-64", e.Message);
    }

    [Fact]
    public void Elf32ForAnotherMachineIsRefused()
    {
        byte[] image = Elf32Writer.Build();
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), ElfConstants.MachineX86_64);

        var e = Assert.Throws<ElfFormatException>(() => ElfImage.Parse(image));

        Assert.StartsWith("wrong machine 62 (x86-64)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SymbolTableWithTheElf64EntrySizeIsRefused()
    {
        byte[] image = Elf32Writer.Build();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(Elf32Writer.SectionHeaders + (3 * 40) + 36), 24);

        var e = Assert.Throws<ElfFormatException>(() => ElfImage.Parse(image));

        Assert.Equal("malformed ELF: .symtab entry size is 24, expected 16", e.Message);
    }

    [Fact]
    public void NoteRunningPastItsSegmentIsAnErrorWhenNotesAreRead()
    {
        byte[] image = Elf32Writer.Build();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(Elf32Writer.Note + 4), 64);   // descsz
        ElfImage elf = ElfImage.Parse(image);

        var e = Assert.Throws<ElfFormatException>(() => elf.Notes());

        Assert.Contains("runs past the end of its PT_NOTE[1] segment", e.Message, StringComparison.Ordinal);
    }
}
