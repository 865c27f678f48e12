using Xunit;

namespace HekiGuest.Tests.Build;

/// <summary>
/// The samples as a guest author meets them: each copied OUTSIDE the SDK checkout, built with the
/// one documented command (`make HEKI_SDK=&lt;checkout&gt;` in the sample's directory), booted on
/// hostsim and under `qemu -kernel` (TCG) to `SUMMARY` and exit code 1, its `heki:` report equal
/// to the kernel's, and the checkout left exactly as it was (ignored files included, so an obj/
/// written into the SDK's sources fails). Needs `make` (kernel and hostsim) and QEMU (make deps).
/// </summary>
public sealed class SampleGuestTests : IClassFixture<SharedToolsDirectory>
{
    private static readonly TimeSpan BuildDeadline = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan BootDeadline = TimeSpan.FromMinutes(2);
    private readonly string _root = RepositoryRoot.Find();
    private readonly SharedToolsDirectory _tools;

    public SampleGuestTests(SharedToolsDirectory tools) { _tools = tools; }

    [Fact]
    public void CSharpSampleBuildsOutOfTreeAndBootsOnHostsimAndQemu() =>
        BuildAndBoot("csharp-minimal", "CSharpMinimal.elf", stackBytes: 65536, heapBytes: 4194304, makeArguments: $"HEKI_SDK={_root}");

    [Fact]
    public void CSampleBuildsOutOfTreeAndBootsOnHostsimAndQemu() =>
        BuildAndBoot("c-minimal", "guest.elf", stackBytes: 32768, heapBytes: 65536, makeArguments: $"HEKI_SDK={_root} HEKI_TOOLS={_tools.Path}");

    [Fact]
    public void AnOutOfTreeGuestWithAPrivilegedWriteOutsideTheSealedSectionDoesNotBuild()
    {
        using var work = new SampleWorkspace(_root, "c-minimal");
        string evil = Path.Combine(work.SampleDirectory, "evil.s");
        File.WriteAllText(evil, "        .intel_syntax noprefix\n        .section .text\n        .global stray_cr0_writer\nstray_cr0_writer:\n        mov cr0, rax\n        ret\n");
        var build = ProcessResult.Run("make", $"-s HEKI_SDK={_root} HEKI_TOOLS={_tools.Path} CMIN_ASM={evil}", work.SampleDirectory, BuildDeadline);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("<stray_cr0_writer>", build.Output);
        Assert.Contains("sealcheck: FAIL", build.Output);
        Assert.False(File.Exists(Path.Combine(work.SampleDirectory, "build", "guest.elf")), "a rejected guest image must not be produced");
    }

    /// <param name="stackBytes">the boot stack the sample's Makefile asks for (P_STACK_SIZE, or the default)</param>
    /// <param name="heapBytes">its early heap (P_HEAP_SIZE, or the default)</param>
    /// <param name="makeArguments">the C# sample: exactly the documented command's; the others share the tool directory</param>
    private void BuildAndBoot(string sample, string elfName, long stackBytes, long heapBytes, string makeArguments)
    {
        string hostsim = Require(Path.Combine(_root, "build", "hostsim", "hostsim.dll"));
        string kernel = Require(Path.Combine(_root, "build", "kernel.elf"));
        var before = CheckoutState.Read(_root);
        var visibleBefore = CheckoutState.ReadVisible(_root);
        using var work = new SampleWorkspace(_root, sample);

        var build = ProcessResult.Run("make", makeArguments, work.SampleDirectory, BuildDeadline);
        Assert.True(build.ExitCode == 0, $"make HEKI_SDK=... in the copied {sample} failed:\n{build.Output}");
        Assert.Contains("sealcheck: OK", build.Output);
        string elf = Path.Combine(work.SampleDirectory, "build", elfName);
        Assert.True(File.Exists(elf), $"{elf} was not produced");
        var symbols = ProcessResult.Run("nm", elf, work.SampleDirectory, BootDeadline);
        Assert.Equal(stackBytes, Distance(symbols.Output, "heki_boot_stack_bottom", "heki_boot_stack_top"));
        Assert.Equal(heapBytes, Distance(symbols.Output, "heki_early_heap", "heki_early_heap_end"));

        var onHostsim = ProcessResult.Run("dotnet", $"{hostsim} run {elf} --timeout 60s", work.SampleDirectory, BootDeadline);
        var sampleTranscript = new GuestTranscript(onHostsim.Output);
        Assert.True(onHostsim.ExitCode == 1, $"hostsim exit code {onHostsim.ExitCode}:\n{onHostsim.Output}");
        Assert.Empty(sampleTranscript.Failures);
        Assert.Equal("SUMMARY: 4 tests", sampleTranscript.Summary);

        var kernelRun = ProcessResult.Run("dotnet", $"{hostsim} run {kernel} --cmdline \"tests=serial\" --timeout 60s", work.SampleDirectory, BootDeadline);
        var kernelTranscript = new GuestTranscript(kernelRun.Output);
        Assert.Equal(4, kernelTranscript.HekiLines.Count);
        Assert.Equal(kernelTranscript.HekiLines, sampleTranscript.HekiLines);

        var onQemu = ProcessResult.Run("qemu-system-x86_64",
            $"-machine q35 -cpu max -m 128M -accel tcg -display none -no-reboot -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio -kernel {elf}",
            work.SampleDirectory, BootDeadline);
        var qemuTranscript = new GuestTranscript(onQemu.Output);
        Assert.True(onQemu.ExitCode == 1, $"qemu exit code {onQemu.ExitCode}:\n{onQemu.Output}");
        Assert.Empty(qemuTranscript.Failures);
        Assert.Equal("SUMMARY: 4 tests, 3 skipped", qemuTranscript.Summary);

        Assert.Equal(visibleBefore, CheckoutState.ReadVisible(_root));
        Assert.Equal(before, CheckoutState.Read(_root));
    }

    private static long Distance(string nm, string from, string to) => Address(nm, to) - Address(nm, from);

    private static long Address(string nm, string symbol)
    {
        string line = nm.Split('\n').Single(l => l.EndsWith(" " + symbol, StringComparison.Ordinal));
        return Convert.ToInt64(line[..line.IndexOf(' ', StringComparison.Ordinal)], 16);
    }

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run make first (make test builds it)");
}
