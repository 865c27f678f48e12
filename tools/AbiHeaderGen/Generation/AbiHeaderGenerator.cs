using HekiGuest.Tools.AbiHeaderGen.Model;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>C# source text in, header text out: compile, reflect, write.</summary>
public static class AbiHeaderGenerator
{
    public const string DefaultSourceLabel = "kernel/Sdk/HekiAbi.cs";

    public static string Generate(string sourceText, string sourceLabel = DefaultSourceLabel)
    {
        AbiModel model = AbiReflector.Read(AbiSourceCompiler.CompileAndLoad(sourceText, sourceLabel));
        return HeaderWriter.Write(model, sourceLabel);
    }
}
