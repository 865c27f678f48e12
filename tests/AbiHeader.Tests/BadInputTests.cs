using HekiGuest.Tools.AbiHeaderGen.Cli;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>Every bad command line or source is one line on stderr (no stack trace) and its own exit code.</summary>
public sealed class BadInputTests
{
    private static ToolRun OnSource(string source, params string[] extra)
    {
        using var dir = new TempDir();
        string path = dir.File("HekiAbi.cs");
        File.WriteAllText(path, source);
        return ToolRun.WithArgs([path, .. extra]);
    }

    private static void AssertOneLineError(ToolRun run, int exitCode, string fragment)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("abiheadergen: error: ", line);
        Assert.Contains(fragment, line);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public void NoArguments() => AssertOneLineError(ToolRun.WithArgs(), ExitCodes.Usage, "Required argument missing");

    [Fact]
    public void UnknownOption() => AssertOneLineError(ToolRun.WithArgs(RepoPaths.AbiSource, "--bogus"), ExitCodes.Usage, "--bogus");

    [Fact]
    public void OutputAndCheckTogether() =>
        AssertOneLineError(ToolRun.WithArgs(RepoPaths.AbiSource, "--output", "a.h", "--check", "b.h"), ExitCodes.Usage, "exclude each other");

    [Fact]
    public void BadSourceLabel() =>
        AssertOneLineError(ToolRun.WithArgs(RepoPaths.AbiSource, "--source-label", "a*/b"), ExitCodes.Usage, "--source-label");

    [Fact]
    public void MissingSource() => AssertOneLineError(ToolRun.WithArgs("/nonexistent/HekiAbi.cs"), ExitCodes.SourceUnreadable, "no such file");

    [Fact]
    public void DirectoryAsSource() => AssertOneLineError(ToolRun.WithArgs(RepoPaths.Root), ExitCodes.SourceUnreadable, "is a directory");

    [Fact]
    public void SourceThatDoesNotCompile() =>
        AssertOneLineError(OnSource("namespace A;\npublic static class HekiX\n{\n    public const uint Y = Missing.Z;\n}\n"),
            ExitCodes.SourceDoesNotCompile, "(4,27): does not compile on its own: CS0103");

    [Fact]
    public void SourceNeedingAnotherSdkFile() =>
        AssertOneLineError(OnSource("namespace A;\npublic static class HekiX\n{\n    public const uint Y = HekiSdkError.PinBitClear;\n}\n"),
            ExitCodes.SourceDoesNotCompile, "does not compile on its own");

    [Theory]
    [InlineData("public static class HekiX { public const double D = 1.5; }", "HekiX.D: a const of type Double")]
    [InlineData("public static class HekiX { public static readonly uint R = 1; }", "HekiX.R: public field is not a const")]
    [InlineData("public enum HekiKind { A }", "HekiKind: only classes of constants and plain structs")]
    [InlineData("public struct HekiS { public bool B; }", "HekiS.B: field type Boolean has no fixed C equivalent")]
    [InlineData("public struct HekiS { public ulong A; private ulong b; public ulong B => b; }", "HekiS.b: every field of an ABI struct must be public")]
    [InlineData("public struct HekiS { }", "HekiS: an ABI struct needs at least one field")]
    [InlineData("[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)] public struct HekiS { public ulong A; }", "HekiS: an ABI struct needs sequential or explicit layout")]
    [InlineData("public static class HekiX { public const uint AB = 1; public const uint AB_ = 2; }", "both become the C name HEKI_X_AB")]
    [InlineData("public static class HekiX { public const string S = \"a\\nb\"; }", "HekiX.S: string constants must be printable ASCII")]
    [InlineData("public static class HekiX { public const int I = 1; }\nnamespace B { public static class HekiY { public const int J = 2; } }", "one namespace")]
    [InlineData("internal static class HekiX { public const int I = 1; }", "declares no public type")]
    public void SourceTheHeaderCannotExpress(string declarations, string fragment) =>
        AssertOneLineError(OnSource("namespace A\n{\n" + declarations + "\n}\n"), ExitCodes.Unsupported, fragment);

    [Fact]
    public void UnwritableOutput() =>
        AssertOneLineError(ToolRun.WithArgs(RepoPaths.AbiSource, "--output", "/nonexistent-dir/heki_abi.h"), ExitCodes.OutputUnwritable, "cannot write /nonexistent-dir/heki_abi.h");

    [Fact]
    public void ExitCodesAreDistinct()
    {
        int[] codes = [ExitCodes.Ok, ExitCodes.Stale, ExitCodes.Usage, ExitCodes.SourceUnreadable, ExitCodes.SourceDoesNotCompile, ExitCodes.Unsupported, ExitCodes.OutputUnwritable, ExitCodes.Internal];
        Assert.Equal(codes.Length, codes.Distinct().Count());
    }

    [Fact]
    public void MinimumSignedValuesAreValidC()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.cs"), "namespace A { public static class HekiX { public const long Min = long.MinValue; public const int IMin = int.MinValue; } }");
        var run = ToolRun.WithArgs(dir.File("s.cs"));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("#define HEKI_X_MIN (-INT64_C(9223372036854775807) - 1)\n", run.Stdout);
        Assert.Contains("#define HEKI_X_I_MIN (-INT32_C(2147483647) - 1)\n", run.Stdout);
    }
}
