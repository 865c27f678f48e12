using HekiGuest.Tools.AbiHeaderGen.Cli;
using HekiGuest.Tools.AbiHeaderGen.Generation;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>The committed header is the generator's output, byte for byte, and a changed ABI source is detected.</summary>
public sealed class StalenessTests
{
    [Fact]
    public void CommittedHeaderIsWhatTheGeneratorWrites()
    {
        var run = ToolRun.WithArgs(RepoPaths.AbiSource, "--check", RepoPaths.CommittedHeader);
        Assert.True(run.ExitCode == ExitCodes.Ok,
            $"kernel/Sdk/include/heki_abi.h is stale (run `make abi-header` and commit it): {run.Stderr.Trim()}");
    }

    [Fact]
    public void OutputIsDeterministicBytes()
    {
        string source = File.ReadAllText(RepoPaths.AbiSource);
        string first = AbiHeaderGenerator.Generate(source);
        string second = AbiHeaderGenerator.Generate(source);
        Assert.Equal(first, second);
        Assert.DoesNotContain('\r', first);
        Assert.EndsWith("#endif /* HEKI_ABI_H */\n", first);
        Assert.DoesNotContain(RepoPaths.Root, first);

        using var dir = new TempDir();
        Assert.Equal(0, ToolRun.WithArgs(RepoPaths.AbiSource, "--output", dir.File("a.h")).ExitCode);
        Assert.Equal(File.ReadAllBytes(RepoPaths.CommittedHeader), File.ReadAllBytes(dir.File("a.h")));
    }

    [Fact]
    public void ChangedConstantInACopyChangesTheOutputAndFailsTheCheck()
    {
        string source = File.ReadAllText(RepoPaths.AbiSource);
        Assert.Contains("BadAddress = -14;", source);
        using var dir = new TempDir();
        string copy = dir.File("HekiAbi.cs");
        File.WriteAllText(copy, source.Replace("BadAddress = -14;", "BadAddress = -15;", StringComparison.Ordinal));

        string changed = AbiHeaderGenerator.Generate(File.ReadAllText(copy));
        Assert.Contains("#define HEKI_ERROR_BAD_ADDRESS INT64_C(-15)\n", changed);
        Assert.NotEqual(File.ReadAllText(RepoPaths.CommittedHeader), changed);

        var run = ToolRun.WithArgs(copy, "--check", RepoPaths.CommittedHeader);
        Assert.Equal(ExitCodes.Stale, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.Contains("is stale", line);
        Assert.Contains("make abi-header", line);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public void ChangedStructLayoutChangesTheAsserts()
    {
        string source = File.ReadAllText(RepoPaths.AbiSource);
        string widened = source.Replace("public ulong PageCount;", "public uint PageCount;\n        public uint Reserved;", StringComparison.Ordinal);
        Assert.NotEqual(source, widened);
        string header = AbiHeaderGenerator.Generate(widened);
        Assert.Contains("    uint32_t page_count; /* offset 8 */\n", header);
        Assert.Contains("_Static_assert(offsetof(struct heki_range, reserved) == 12,", header);
        Assert.Contains("_Static_assert(sizeof(struct heki_range) == 24,", header);
    }

    [Fact]
    public void MissingHeaderIsStale()
    {
        using var dir = new TempDir();
        var run = ToolRun.WithArgs(RepoPaths.AbiSource, "--check", dir.File("heki_abi.h"));
        Assert.Equal(ExitCodes.Stale, run.ExitCode);
        Assert.Contains("is missing", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public void FirstDifferentLineIsOneBased()
    {
        Assert.Equal(2, AbiHeaderCommand.FirstDifferentLine("a\nb\nc", "a\nx\nc"));
        Assert.Equal(4, AbiHeaderCommand.FirstDifferentLine("a\nb\nc", "a\nb\nc\nd"));
    }
}
