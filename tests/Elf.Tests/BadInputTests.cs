using System.Buffers.Binary;

namespace HekiGuest.Elf.Tests;

/// <summary>Whatever the bytes, the reader either parses them or throws one <see cref="ElfFormatException"/> with a one-line message.</summary>
public sealed class BadInputTests
{
    [Fact]
    public void EveryTruncationIsAOneLineError()
    {
        byte[] image = Elf32Writer.Build();
        for (int length = 0; length < image.Length; length++)
        {
            var e = Assert.Throws<ElfFormatException>(() => ElfImage.Parse(image[..length]));
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnotherException()
    {
        byte[] original = Elf32Writer.Build();
        var random = new Random(20261202);
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] image = (byte[])original.Clone();
            for (int flips = 1 + random.Next(6); flips > 0; flips--)
            {
                image[random.Next(image.Length)] = (byte)random.Next(256);
            }

            try
            {
                ElfImage elf = ElfImage.Parse(image);
                _ = elf.Notes();
            }
            catch (ElfFormatException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void FileRangeOutsideTheFileIsAnError()
    {
        ElfImage elf = ElfImage.Parse(Elf32Writer.Build());

        var e = Assert.Throws<ElfFormatException>(() => elf.FileBytes((ulong)elf.FileLength - 4, 8).ToArray());

        Assert.StartsWith("truncated ELF: file range", e.Message, StringComparison.Ordinal);
    }
}
