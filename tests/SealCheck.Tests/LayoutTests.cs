using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Tests;

public class LayoutTests
{
    private static void AssertLayoutViolation(TestKernel kernel, string expected)
    {
        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("  layout: " + expected, run.Stdout);
        Assert.StartsWith("sealcheck: FAIL (", run.Verdict);
    }

    [Fact]
    public void SectionNotPageAlignedFails() =>
        AssertLayoutViolation(new TestKernel { SealedAddress = 0x104010 }, ".heki.sealed starts at 0x104010, which is not 4 KiB aligned");

    [Fact]
    public void SectionSharingTheTextSegmentFails() =>
        AssertLayoutViolation(new TestKernel { SealedSharesTextSegment = true },
            ".heki.sealed does not have its own segment: PT_LOAD[0] starts at 0x100000, below the section start 0x104000");

    [Fact]
    public void SharingTheSegmentNamesTheOtherSections()
    {
        SealCheckRun run = SealCheckRun.OnImage(new TestKernel { SealedSharesTextSegment = true }.Build());

        Assert.Contains("layout: section .text (0x101000-", run.Stdout);
        Assert.Contains(") shares PT_LOAD[0] with .heki.sealed", run.Stdout);
    }

    [Fact]
    public void AnotherSectionOnTheLastSealedPageFails() =>
        AssertLayoutViolation(new TestKernel { PadSealedToPage = false, RodataAddress = TestKernel.DefaultSealedAddress + 0x100 },
            "PT_LOAD[2] (R-- 0x104100-0x104140) shares a page with .heki.sealed (0x104000-0x105000)");

    [Fact]
    public void UnpaddedSectionAloneOnItsPageIsAccepted()
    {
        // The end of the section need not be page aligned when nothing else uses the rest of the page;
        // __heki_sealed_end is then the page-rounded end.
        SealCheckRun run = SealCheckRun.OnImage(new TestKernel { PadSealedToPage = false }.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void EndSymbolThatIsNotThePageRoundedEndFails()
    {
        var kernel = new TestKernel();
        kernel.OmitSymbols.Add("__heki_sealed_end");
        kernel.ExtraSymbols.Add(("__heki_sealed_end", TestKernel.DefaultSealedAddress + 0x2000));

        AssertLayoutViolation(kernel, "__heki_sealed_end is 0x106000 but .heki.sealed ends at 0x105000 (page-rounded 0x105000)");
    }

    [Fact]
    public void UnalignedEndSymbolFails()
    {
        var kernel = new TestKernel();
        kernel.OmitSymbols.Add("__heki_sealed_end");
        kernel.ExtraSymbols.Add(("__heki_sealed_end", TestKernel.DefaultSealedAddress + 0x20));

        AssertLayoutViolation(kernel, "__heki_sealed_end is 0x104020, which is not 4 KiB aligned");
    }

    [Fact]
    public void MissingStartSymbolFails()
    {
        var kernel = new TestKernel();
        kernel.OmitSymbols.Add("__heki_sealed_start");

        AssertLayoutViolation(kernel, "symbol __heki_sealed_start is missing");
    }

    [Fact]
    public void StrippedKernelSkipsTheSymbolChecksAndSaysSo()
    {
        SealCheckRun run = SealCheckRun.OnImage(new TestKernel { IncludeSymbols = false }.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("note: no .symtab (stripped)", run.Stdout);
    }

    [Fact]
    public void ExecutableSegmentEndingMidPageGetsANote()
    {
        var kernel = new TestKernel();
        ulong textEnd = TestKernel.TextAddress + (ulong)kernel.Text64Bytes.Length;

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"note: PT_LOAD[0] ends at 0x{textEnd:x}: the last {0x102000 - textEnd} bytes of its page are not in the ELF", run.Stdout);
        Assert.DoesNotContain("note: PT_LOAD[1]", run.Stdout);
    }

    [Fact]
    public void WritableSealedSegmentFails() =>
        AssertLayoutViolation(new TestKernel { SealedSegmentFlags = ElfConstants.PfRead | ElfConstants.PfWrite | ElfConstants.PfExecute },
            "PT_LOAD[1] holding .heki.sealed is writable (flags RWX): sealed code must be R+X only");

    [Fact]
    public void NonExecutableSealedSegmentFails()
    {
        var kernel = new TestKernel { SealedSegmentFlags = ElfConstants.PfRead };

        AssertLayoutViolation(kernel, "PT_LOAD[1] holding .heki.sealed is not executable (flags R--)");
        Assert.Contains("layout: .heki.sealed (0x104000-0x105000) is not in any executable PT_LOAD segment", SealCheckRun.OnImage(kernel.Build()).Stdout);
    }
}
