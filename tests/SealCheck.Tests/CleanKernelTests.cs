using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

public class CleanKernelTests
{
    [Fact]
    public void CleanKernelPassesAndCountsTheSealedInstructions()
    {
        var kernel = new TestKernel();

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("sealcheck: OK (2 sealed-class instructions, all inside .heki.sealed)", run.Verdict);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public void EverySealedKindInsideTheSectionIsAllowedAndCounted()
    {
        var kernel = new TestKernel
        {
            Sealed64 = a =>
            {
                a.mov(cr0, rax);
                a.mov(cr3, rbx);
                a.mov(cr4, r8);
                a.lmsw(ax);
                a.clts();
                a.wrmsr();
                a.wrmsrns();
                a.wrmsrlist();
                a.xrstors(__[rdi]);
                a.xrstors64(__[rdi]);
                a.xsetbv();
                a.lgdt(__[rdi]);
                a.lidt(__[rdi]);
                a.ltr(ax);
                a.lldt(ax);
                a.ret();
            },
        };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("sealcheck: OK (15 sealed-class instructions, all inside .heki.sealed)", run.Verdict);
    }

    [Fact]
    public void SummaryTableHasARowPerExecutableSectionWithInstructionCounts()
    {
        var kernel = new TestKernel();
        int textInstructions = CountInstructions(64, kernel.Text64Bytes, TestKernel.TextAddress);

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        string[] textRow = Row(run, ".text");
        Assert.Equal("0x101000-0x" + (TestKernel.TextAddress + (ulong)kernel.Text64Bytes.Length).ToString("x"), textRow[1]);
        Assert.Equal("64", textRow[3]);
        Assert.Equal(textInstructions.ToString(), textRow[4]);
        string[] sealedRow = Row(run, ".heki.sealed");
        Assert.Equal("4096", sealedRow[2]);
        Assert.Equal("2", sealedRow[6]);
        Assert.Equal("0", sealedRow[7]);
        Assert.Single(run.Stdout.Split('\n'), l => l.TrimStart().StartsWith(".boot ", StringComparison.Ordinal));
    }

    [Fact]
    public void NonProtectionInstructionsOutsideTheSectionAreNotFlagged()
    {
        // CR2, control-register reads, descriptor-table stores, user-state XRSTOR, WRPKRU, RDMSR.
        // (MOV CR8 is not in the class, but see GadgetTests: its encoding hides MOV CR0.)
        var kernel = new TestKernel
        {
            Text64 = a =>
            {
                a.mov(cr2, rax);
                a.mov(rax, cr0);
                a.mov(rax, cr4);
                a.sgdt(__[rdi]);
                a.sidt(__[rdi]);
                a.str(ax);
                a.sldt(ax);
                a.smsw(ax);
                a.xrstor(__[rdi]);
                a.wrpkru();
                a.rdmsr();
                a.ret();
            },
        };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void UndecodableBytesInTextAreCountedNotFatal()
    {
        // PUSH ES, POP ES and DAA are invalid in 64-bit mode; a lone 0x0F at the end is cut short.
        var kernel = new TestKernel { TextTail = [0x06, 0x07, 0x27, 0x0F] };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("4", Row(run, ".text")[5]);
    }

    internal static string[] Row(SealCheckRun run, string section) =>
        run.Stdout.Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(cells => cells.Length == 9 && cells[0] == section);

    internal static int CountInstructions(int bitness, byte[] code, ulong ip)
    {
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code), ip);
        int count = 0;
        while (decoder.IP < ip + (ulong)code.Length)
        {
            decoder.Decode(out Instruction instruction);
            Assert.False(instruction.IsInvalid);
            count++;
        }

        return count;
    }
}
