using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

public class GadgetTests
{
    [Theory]
    [InlineData(0x00E0220Fu, "mov cr4, rax [0F 22 E0]", "mov eax, 0xe0220f [B8 0F 22 E0 00]")]
    [InlineData(0x00D1010Fu, "xsetbv [0F 01 D1]", "mov eax, 0xd1010f [B8 0F 01 D1 00]")]
    [InlineData(0x0000300Fu, "wrmsr [0F 30]", "mov eax, 0x300f [B8 0F 30 00 00]")]
    public void ImmediateHoldingASealedEncodingFails(uint immediate, string gadget, string host)
    {
        var kernel = new TestKernel { Text64 = a => { a.mov(eax, immediate); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"unaligned encoding at 0x101001 <kmain+0x1> in .text (64-bit): {gadget} inside {host} at 0x101000 <kmain>", run.Stdout);
        Assert.Equal("1", CleanKernelTests.Row(run, ".text")[8]);
    }

    [Fact]
    public void EncodingSpanningTwoInstructionsFails()
    {
        // mov al, 0x0f ; xor [rax], dh  ->  B0 0F 30 30: WRMSR starts inside the first instruction.
        var kernel = new TestKernel { Text64 = a => { a.mov(al, 0x0f); a.xor(__byte_ptr[rax], dh); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("unaligned encoding at 0x101001 <kmain+0x1> in .text (64-bit): wrmsr [0F 30] inside mov al, 0xf [B0 0F]", run.Stdout);
    }

    [Fact]
    public void MovCr8HidesMovCr0OneByteLater()
    {
        // CR8 is not sealed, but its only encoding (REX.R 0F 22 /r) contains MOV CR0 after the REX byte.
        var kernel = new TestKernel { Text64 = a => { a.mov(cr8, rax); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("unaligned encoding at 0x101001 <kmain+0x1> in .text (64-bit): mov cr0, rax [0F 22 C0] inside mov cr8, rax [44 0F 22 C0]", run.Stdout);
    }

    [Fact]
    public void GadgetInsideTheSealedSectionIsAllowed()
    {
        var kernel = new TestKernel { Sealed64 = a => { a.mov(eax, 0x00E0220Fu); a.wrmsr(); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void NativeOnlyOptionStillFindsUnalignedEncodings()
    {
        var kernel = new TestKernel { Text64 = a => { a.mov(eax, 0x00E0220Fu); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build(), "--native-bitness-only");

        Assert.True(run.ExitCode == 1, run.ToString());
    }

    [Fact]
    public void ViolationsAreListedInAddressOrderLayoutFirst()
    {
        var kernel = new TestKernel { SealedAddress = 0x104010, Text64 = a => { a.mov(eax, 0x300Fu); a.mov(cr4, rax); a.ret(); } };

        SealCheckRun run = SealCheckRun.OnImage(kernel.Build());

        string[] violations = [.. run.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("violations (", StringComparison.Ordinal)).Skip(1).SkipLast(2)];
        Assert.True(violations.Length >= 3, run.ToString());
        Assert.StartsWith("  layout:", violations[0]);
        Assert.Contains("unaligned encoding at 0x101001", violations[^2]);
        Assert.Contains("sealed-class instruction at 0x101005", violations[^1]);
    }
}
