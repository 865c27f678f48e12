using HekiGuest.Tools.SealCheck.Analysis;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

public class SealedOutsideTests
{
    [Fact]
    public void StrayMovCr4InTextFailsNamingAddressSymbolTextAndBytes()
    {
        var kernel = new TestKernel
        {
            Text64 = a => { a.push(rbp); a.mov(rax, rdi); a.mov(cr4, rax); a.pop(rbp); a.ret(); },
        };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("sealed-class instruction at 0x101004 <kmain+0x4> in .text (64-bit): mov cr4, rax [0F 22 E0] outside .heki.sealed", run.Stdout);
        Assert.Equal("sealcheck: FAIL (1 violation)", run.Verdict);
        Assert.Equal("1", CleanKernelTests.Row(run, ".text")[7]);
    }

    [Fact]
    public void QuietPrintsOnlyViolationsAndTheVerdict()
    {
        var kernel = new TestKernel { Text64 = a => { a.mov(cr4, rax); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build(), "--quiet");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            ["  sealed-class instruction at 0x101000 <kmain> in .text (64-bit): mov cr4, rax [0F 22 E0] outside .heki.sealed", "sealcheck: FAIL (1 violation)"],
            run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public static TheoryData<string> EveryKind() => [.. Samples.Keys];

    private static readonly Dictionary<string, Action<Assembler>> Samples = new()
    {
        ["mov cr0, rbx"] = a => a.mov(cr0, rbx),
        ["mov cr3, r15"] = a => a.mov(cr3, r15),
        ["lmsw ax"] = a => a.lmsw(ax),
        ["clts"] = a => a.clts(),
        ["wrmsr"] = a => a.wrmsr(),
        ["wrmsrns"] = a => a.wrmsrns(),
        ["wrmsrlist"] = a => a.wrmsrlist(),
        ["xrstors"] = a => a.xrstors(__[rsi]),
        ["xrstors64"] = a => a.xrstors64(__[rsi]),
        ["xsetbv"] = a => a.xsetbv(),
        ["lgdt"] = a => a.lgdt(__[rsi]),
        ["lidt"] = a => a.lidt(__[rsi]),
        ["ltr"] = a => a.ltr(ax),
        ["lldt"] = a => a.lldt(ax),
    };

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void EverySealedKindOutsideTheSectionFails(string sample)
    {
        var kernel = new TestKernel { Text64 = a => { a.nop(); Samples[sample](a); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("sealed-class instruction at 0x101001 <kmain+0x1> in .text (64-bit): " + sample.Split(',')[0], run.Stdout);
    }

    [Fact]
    public void ClassTableCoversEveryListedCodeAndTheCliPrintsIt()
    {
        SealCheckRun run = SealCheckRun.WithArgs("--list-class");

        Assert.Equal(0, run.ExitCode);
        foreach (SealedInstructionKind kind in SealedInstructionClass.Kinds)
        {
            Assert.Contains(kind.Name, run.Stdout);
        }

        Assert.Contains("MOV CR8", run.Stdout);
        Assert.Equal(SealedInstructionClass.Kinds.Sum(k => k.Codes.Count), SealedInstructionClass.Kinds.SelectMany(k => k.Codes).Distinct().Count());
    }
}
