using Xunit;

namespace HekiGuest.Tests.Build;

/// <summary>
/// `make check-runtime-contract` (kernel/Platform/check-runtime-contract.sh): the real kernel
/// objects against docs/sdk.md pass; the same objects against a copy of the document without
/// one symbol's row fail, naming that symbol.
/// </summary>
public sealed class RuntimeContractCheckTests : IDisposable
{
    private readonly string _root = RepositoryRoot.Find();
    private readonly string _work = Directory.CreateTempSubdirectory("heki-contract-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private ProcessResult Check(string doc)
    {
        string k = Path.Combine(_root, "build", "kernel");
        string ilc = Path.Combine(k, "guest_cs.o");
        if (!File.Exists(ilc)) throw new InvalidOperationException($"{ilc} is missing: run make first");
        string platform = string.Join(' ', new[] { "boot", "cpu", "runtime", "sealed" }.Select(n => Path.Combine(k, "platform", n + ".o")));
        // The kernel's own asm (self-test data, the embedded monitor's symbols, the SDK's hypercall
        // stubs), as `make check-runtime-contract` passes it.
        string own = string.Join(' ', Directory.GetFiles(Path.Combine(k, "asm"), "*.o").Order(StringComparer.Ordinal));
        string script = Path.Combine(_root, "kernel", "Platform", "check-runtime-contract.sh");
        return ProcessResult.Run("bash", $"{script} {doc} {ilc} {Path.Combine(_root, "kernel", "Corelib")} \"{platform}\" \"{own}\"",
            _work, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void TheKernelsSymbolsAreAllDocumented()
    {
        var r = Check(Path.Combine(_root, "docs", "sdk.md"));
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("check-runtime-contract: OK", r.Output);
    }

    [Theory]
    [InlineData("`heki_fail_fast`", "heki_fail_fast")]              // a corelib RuntimeImport
    [InlineData("`heki_exception_dispatch`", "heki_exception_dispatch")] // what the platform asm needs
    [InlineData("`__security_cookie`", "__security_cookie")]        // an undefined symbol of the ilc output
    public void AnUndocumentedSymbolFailsTheCheck(string rowStart, string symbol)
    {
        string[] lines = File.ReadAllLines(Path.Combine(_root, "docs", "sdk.md"));
        string[] without = lines.Where(l => !l.StartsWith("| " + rowStart, StringComparison.Ordinal)).ToArray();
        Assert.Equal(lines.Length - 1, without.Length);
        string doc = Path.Combine(_work, "sdk.md");
        File.WriteAllLines(doc, without);

        var r = Check(doc);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"check-runtime-contract: {symbol} is used across the runtime boundary but not documented", r.Output);
    }
}
