using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

public class BitnessTests
{
    [Fact]
    public void MovCr0In32BitRangeOutsideTheSectionFailsAsA32BitInstruction()
    {
        var kernel = new TestKernel { Boot32 = a => { a.mov(eax, 0x11); a.mov(cr0, eax); a.hlt(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("sealed-class instruction at 0x100005 <heki_entry32+0x5> in .boot (32-bit): mov cr0, eax [0F 22 C0] outside .heki.sealed", run.Stdout);
    }

    [Fact]
    public void ThirtyTwoBitRangeIsDecodedAs32BitCode()
    {
        // 40 49 42 C3 is inc eax; dec ecx; inc edx; ret in 32-bit code, but REX prefixes + ret in 64-bit.
        var kernel = new TestKernel { Boot32 = a => { a.inc(eax); a.dec(ecx); a.inc(edx); a.ret(); } };
        Assert.Equal([0x40, 0x49, 0x42, 0xC3], kernel.Boot32Bytes);

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] row = CleanKernelTests.Row(run, ".boot");
        Assert.Equal("32", row[3]);
        Assert.Equal("4", row[4]);
        Assert.Contains("32-bit code: __heki_code32_start_boot..__heki_code32_end_boot 0x100000-0x100004", run.Stdout);
    }

    [Fact]
    public void WithoutCode32SymbolsTheSameRangeIsDecodedAs64Bit()
    {
        var kernel = new TestKernel { Boot32 = a => { a.inc(eax); a.dec(ecx); a.inc(edx); a.ret(); }, IncludeCode32Symbols = false };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        string[] row = CleanKernelTests.Row(run, ".boot");
        Assert.Equal("64", row[3]);
        Assert.Equal("1", row[4]);
    }

    [Fact]
    public void ThirtyTwoBitRangeInsideTheSealedSectionIsAllowed()
    {
        var kernel = new TestKernel();
        ulong start = TestKernel.DefaultSealedAddress + 0x800;
        kernel.Sealed64 = a =>
        {
            a.mov(cr4, rdi);
            a.ret();
            for (int i = 0; i < 0x800 - 4; i++)
            {
                a.int3();
            }

            // Bytes of 32-bit code at +0x800: mov cr0, eax; lgdt [esi]; ret (the same bytes in both modes).
            a.db(0x0F, 0x22, 0xC0, 0x0F, 0x01, 0x16, 0xC3);
        };
        kernel.ExtraSymbols.Add(("__heki_code32_start_sealed", start));
        kernel.ExtraSymbols.Add(("__heki_code32_end_sealed", start + 7));

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("32+64", CleanKernelTests.Row(run, ".heki.sealed")[3]);
        Assert.Equal("sealcheck: OK (3 sealed-class instructions, all inside .heki.sealed)", run.Verdict);
    }

    [Fact]
    public void StrippedKernelStillCatches32BitCodeThroughTheOtherBitnessScan()
    {
        var kernel = new TestKernel { Boot32 = a => { a.mov(eax, 0x11); a.mov(cr0, eax); a.hlt(); }, IncludeSymbols = false };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("no .symtab (stripped)", run.Stdout);
        Assert.Contains("0x100005 <?> in .boot (64-bit): mov cr0, rax [0F 22 C0]", run.Stdout);
    }

    [Fact]
    public void ModeSpecificPrefixIsReportedOnceNotOncePerBitness()
    {
        // In 32-bit code 48 0F C7 1E is dec eax; xrstors [esi]. Decoded as 64-bit at the 0x48 it is
        // xrstors64 [rsi]: the same hidden instruction, so it must be one violation, not two.
        var kernel = new TestKernel { Boot32 = a => { a.db(0x48, 0x0F, 0xC7, 0x1E); a.hlt(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal("sealcheck: FAIL (1 violation)", run.Verdict);
        Assert.Contains("sealed-class instruction at 0x100001 <heki_entry32+0x1> in .boot (32-bit): xrstors [esi] [0F C7 1E]", run.Stdout);
    }

    [Fact]
    public void SixtyFourBitOnlyEncodingIn32BitCodeIsCaughtThroughWhatItContains()
    {
        // F3 0F 01 C6 is WRMSRLIST in 64-bit mode and invalid in 32-bit mode; the 0F 01 C6 after
        // the prefix is WRMSRNS in both, so the native 32-bit scan reports it, once.
        var kernel = new TestKernel { Boot32 = a => { a.db(0xF3, 0x0F, 0x01, 0xC6); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("0x100001 <heki_entry32+0x1> in .boot (32-bit): wrmsrns [0F 01 C6]", run.Stdout);
        Assert.Equal("sealcheck: FAIL (1 violation)", run.Verdict);
    }
}
