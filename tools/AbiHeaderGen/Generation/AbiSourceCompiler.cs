using System.Reflection;
using System.Runtime.Loader;
using HekiGuest.Tools.AbiHeaderGen.Cli;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>
/// Compiles the ABI source on its own (no other SDK file, only the .NET core library) in memory and
/// loads it, so the constants and layouts are read from what the C# compiler and runtime produce.
/// </summary>
public static class AbiSourceCompiler
{
    public static Assembly CompileAndLoad(string sourceText, string sourceLabel)
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(sourceText, new CSharpParseOptions(LanguageVersion.Latest), path: sourceLabel);
        var compilation = CSharpCompilation.Create(
            "HekiAbi.Generated",
            [tree],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, deterministic: true));

        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)
                .OrderBy(d => d.Location.SourceSpan.Start).ToList();
            Diagnostic first = errors[0];
            var position = first.Location.GetLineSpan().StartLinePosition;
            string more = errors.Count > 1 ? $" (and {errors.Count - 1} more)" : "";
            throw new AbiGenException(ExitCodes.SourceDoesNotCompile,
                $"{sourceLabel}({position.Line + 1},{position.Character + 1}): does not compile on its own: {first.Id}: {first.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}{more}");
        }

        image.Position = 0;
        return new AssemblyLoadContext("heki-abi-" + Guid.NewGuid().ToString("N"), isCollectible: false).LoadFromStream(image);
    }
}
