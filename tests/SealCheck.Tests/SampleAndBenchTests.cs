using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Elf;
using HekiGuest.Tools.SealCheck.Synthetic;

namespace HekiGuest.Tools.SealCheck.Tests;

public class SampleAndBenchTests
{
    [Fact]
    public void WriteSampleProducesAClean256KiBKernel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sealcheck-sample-{Guid.NewGuid():N}.elf");
        try
        {
            SealCheckRun written = SealCheckRun.WithArgs("--write-sample", path);
            Assert.True(written.ExitCode == 0, written.ToString());

            ElfImage elf = ElfImage.Parse(File.ReadAllBytes(path));
            ElfSection text = elf.Sections.Single(s => s.Name == ".text");
            Assert.InRange(text.Size, 240UL * 1024, 300UL * 1024);
            SealCheckRun run = SealCheckRun.WithArgs(path);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("sealcheck: OK (18 sealed-class instructions, all inside .heki.sealed)", run.Verdict);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BenchPrintsTimesAndThroughput()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sealcheck-bench-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, SyntheticKernel.Create(codeKiB: 32));
        try
        {
            SealCheckRun run = SealCheckRun.WithArgs("--bench", "3", path);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("first run (cold, includes JIT):", run.Stdout);
            Assert.Matches(@"warm runs: 3, median \d+\.\d\d ms", run.Stdout);
            Assert.Matches(@"throughput \(median\): \d+\.\d\d MB/s \(\d+ bytes/s\)", run.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BenchOnAViolatingKernelExitsWith1()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sealcheck-bench-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, new TestKernel { Text64 = a => { a.wrmsr(); a.ret(); } }.Build());
        try
        {
            SealCheckRun run = SealCheckRun.WithArgs("--bench", "2", path);

            Assert.Equal(1, run.ExitCode);
            Assert.Equal("sealcheck: FAIL (1 violation)", run.Verdict);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SampleSealedSectionHoldsEveryKind()
    {
        ElfImage elf = ElfImage.Parse(SyntheticKernel.Create(codeKiB: 8));
        VerificationReport report = KernelVerifier.Verify(elf);

        Assert.True(report.IsClean);
        Assert.Equal(18, report.SealedInside);
    }
}
