using System.Buffers.Binary;
using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Tests;

public class BadInputTests
{
    private static void AssertBadInput(SealCheckRun run, string expected)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("sealcheck: error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("internal error", line);
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
    }

    [Fact]
    public void NonElfFileIsRejected() =>
        AssertBadInput(SealCheckRun.OnImage("#!/bin/sh\necho not a kernel\n"u8.ToArray()), "not an ELF file (bad magic)");

    [Fact]
    public void EmptyFileIsRejected() =>
        AssertBadInput(SealCheckRun.OnImage([]), "not an ELF file (empty file)");

    [Theory]
    [InlineData(4)]
    [InlineData(20)]
    [InlineData(63)]
    [InlineData(100)]
    [InlineData(0x1010)]
    public void TruncatedElfIsRejected(int length)
    {
        byte[] image = new TestKernel().Build();

        AssertBadInput(SealCheckRun.OnImage(image[..length]), "truncated ELF");
    }

    [Fact]
    public void EveryTruncationIsBadInputNeverACrash()
    {
        byte[] image = new TestKernel().Build();
        for (int length = 0; length < image.Length; length += 97)
        {
            SealCheckRun run = SealCheckRun.OnImage(image[..length]);
            Assert.True(run.ExitCode == 2 && run.ErrorLines.Length == 1 && !run.Stderr.Contains("internal error"), $"length {length}: {run}");
        }
    }

    [Fact]
    public void Elf32IsRejected()
    {
        // A minimal ELF32 i386 executable header (52 bytes) with no tables.
        var image = new byte[52];
        byte[] magic = [0x7f, (byte)'E', (byte)'L', (byte)'F'];
        magic.CopyTo(image, 0);
        image[4] = ElfConstants.ClassElf32;
        image[5] = ElfConstants.DataLittleEndian;
        image[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(16), ElfConstants.TypeExecutable);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), ElfConstants.MachineX86);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(40), 52);

        AssertBadInput(SealCheckRun.OnImage(image), "32-bit ELF (ELFCLASS32) is not supported");
    }

    [Fact]
    public void BigEndianIsRejected()
    {
        byte[] image = new TestKernel().Build();
        image[5] = ElfConstants.DataBigEndian;

        AssertBadInput(SealCheckRun.OnImage(image), "big-endian");
    }

    [Fact]
    public void WrongMachineIsRejected()
    {
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), 183); // EM_AARCH64

        AssertBadInput(SealCheckRun.OnImage(image), "wrong machine 183");
    }

    [Fact]
    public void PieOrSharedObjectIsRejected()
    {
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(16), ElfConstants.TypeShared);

        AssertBadInput(SealCheckRun.OnImage(image), "ET_DYN (3) is not supported");
    }

    [Fact]
    public void KernelWithoutTheSealedSectionIsRejected() =>
        AssertBadInput(SealCheckRun.OnImage(new TestKernel { IncludeSealed = false }.Build()), "no .heki.sealed section");

    [Fact]
    public void UnmatchedCode32SymbolIsRejected()
    {
        var kernel = new TestKernel();
        kernel.OmitSymbols.Add("__heki_code32_end_boot");

        AssertBadInput(SealCheckRun.OnImage(kernel.Build()), "unmatched 32-bit range symbol __heki_code32_start_boot");
    }

    [Fact]
    public void UnmatchedCode32EndSymbolIsRejected()
    {
        var kernel = new TestKernel();
        kernel.ExtraSymbols.Add(("__heki_code32_end_ap", TestKernel.TextAddress));

        AssertBadInput(SealCheckRun.OnImage(kernel.Build()), "unmatched 32-bit range symbol __heki_code32_end_ap");
    }

    [Fact]
    public void SectionHeaderTablePastTheEndIsRejected()
    {
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(40), (ulong)image.Length - 8);

        AssertBadInput(SealCheckRun.OnImage(image), "section header table");
    }

    [Fact]
    public void HugeCountsAndOffsetsAreRejected()
    {
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(32), ulong.MaxValue - 10);

        AssertBadInput(SealCheckRun.OnImage(image), "program header table");
    }

    [Fact]
    public void HugeExecutableSegmentIsRejected()
    {
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(64 + 40), 1UL << 32); // PT_LOAD[0] p_memsz = 4 GiB

        AssertBadInput(SealCheckRun.OnImage(image), "more than the 64 MiB this tool accepts");
    }

    [Fact]
    public void SegmentWrappingTheAddressSpaceIsRejected()
    {
        // The shared ELF reader leaves this to hostsim's loader; sealcheck asks for it (ElfRequirements.Elf64Executable).
        byte[] image = new TestKernel().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(64 + 16), ulong.MaxValue - 10); // PT_LOAD[0] p_vaddr

        AssertBadInput(SealCheckRun.OnImage(image), "PT_LOAD[0] at 0xfffffffffffffff5 with size");
    }

    [Fact]
    public void MissingFileIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs("/nonexistent/kernel.elf"), "no such file");

    [Fact]
    public void DirectoryIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs(Path.GetTempPath()), "is a directory");

    [Fact]
    public void MissingArgumentIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs(), "missing kernel ELF argument");

    [Fact]
    public void UnknownOptionIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs("--frobnicate"), "unknown option --frobnicate");

    [Fact]
    public void ExtraArgumentIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs("a.elf", "b.elf"), "Unrecognized command or argument 'b.elf'");

    [Fact]
    public void BadBenchCountIsRejected() =>
        AssertBadInput(SealCheckRun.WithArgs("--bench", "0", "x.elf"), "--bench needs a run count");

    [Fact]
    public void RandomCorruptionNeverCrashes()
    {
        byte[] original = new TestKernel().Build();
        var random = new Random(1234);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] image = (byte[])original.Clone();
            int flips = 1 + random.Next(8);
            for (int i = 0; i < flips; i++)
            {
                // Mostly the headers and tables, where the parser is exposed.
                int at = random.Next(3) == 0 ? random.Next(image.Length) : random.Next(Math.Min(image.Length, 64 + (3 * 56)));
                image[at] = (byte)random.Next(256);
            }

            Check(image);
        }

        int headerTables = BinaryPrimitives.ReadInt32LittleEndian(original.AsSpan(40));
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] image = (byte[])original.Clone();
            image[headerTables + random.Next(image.Length - headerTables)] = (byte)random.Next(256);
            Check(image);
        }

        static void Check(byte[] image)
        {
            SealCheckRun run = SealCheckRun.OnImage(image);
            Assert.True(run.ExitCode is 0 or 1 or 2, run.ToString());
            if (run.ExitCode == 2)
            {
                Assert.True(run.ErrorLines.Length == 1 && !run.Stderr.Contains("internal error"), run.ToString());
            }
        }
    }
}
