using Xunit;

namespace HekiGuest.Tests.Build;

/// <summary>
/// Links the real kernel objects plus one extra hand-written object through `make kernel-variant`
/// (the same two-pass link and sealcheck step as `make kernel`) and checks that a privileged
/// write outside .heki.sealed stops the build with a precise message, while the same instruction
/// inside the section builds.
/// </summary>
public sealed class SealedBuildTests : IDisposable
{
    private readonly string _root = RepositoryRoot.Find();
    private readonly string _work = Directory.CreateTempSubdirectory("heki-buildtest-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private ProcessResult BuildVariant(string name, string assembly)
    {
        string dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "extra.s"), obj = Path.Combine(dir, "extra.o");
        File.WriteAllText(source, "        .intel_syntax noprefix\n" + assembly);
        var asm = ProcessResult.Run("as", $"--64 -o {obj} {source}", dir, TimeSpan.FromSeconds(30));
        Assert.True(asm.ExitCode == 0, "assembling the test object failed: " + asm.Output);
        return ProcessResult.Run("make", $"-s --no-print-directory kernel-variant VARIANT_OBJS={obj} VARIANT_OUT={dir}/out/kernel.elf",
            _root, TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void MisplacedCr4WriteFailsTheBuildNamingAddressSymbolAndInstruction()
    {
        var r = BuildVariant("cr4", """
                    .section .text
                    .global stray_cr4_writer
            stray_cr4_writer:
                    mov cr4, rax
                    ret
            """);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("<stray_cr4_writer>", r.Output);
        Assert.Contains("mov cr4, rax [0F 22 E0] outside .heki.sealed", r.Output);
        Assert.Contains("sealcheck: FAIL (1 violation)", r.Output);
        Assert.False(File.Exists(Path.Combine(_work, "cr4", "out", "kernel.elf")), "a rejected kernel must not be produced");
    }

    [Fact]
    public void GadgetHiddenInAnImmediateFailsTheBuild()
    {
        var r = BuildVariant("gadget", """
                    .section .text
                    .global innocent_looking
            innocent_looking:
                    mov eax, 0x00E0220F
                    ret
            """);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("innocent_looking", r.Output);
        Assert.Contains("mov cr4, rax", r.Output);
        Assert.Contains("sealcheck: FAIL", r.Output);
    }

    [Fact]
    public void WrmsrOutsideTheSectionFailsTheBuild()
    {
        var r = BuildVariant("wrmsr", """
                    .section .text
                    .global stray_msr_writer
            stray_msr_writer:
                    wrmsr
                    ret
            """);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("<stray_msr_writer>", r.Output);
        Assert.Contains("wrmsr", r.Output);
    }

    [Fact]
    public void TheSameInstructionInsideTheSealedSectionBuilds()
    {
        var r = BuildVariant("sealed", """
                    .section .heki.sealed, "ax"
                    .global extra_sealed_cr4_writer
            extra_sealed_cr4_writer:
                    mov cr4, rax
                    ret
            """);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Matches(@"sealcheck: OK \(\d+ sealed-class instructions, all inside \.heki\.sealed\)", r.Output);
        Assert.True(File.Exists(Path.Combine(_work, "sealed", "out", "kernel.elf")));
    }
}
