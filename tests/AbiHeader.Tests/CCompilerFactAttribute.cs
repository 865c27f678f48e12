namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>A fact that needs the system C compiler: skipped, with the reason, when there is none.</summary>
public sealed class CCompilerFactAttribute : FactAttribute
{
    public CCompilerFactAttribute()
    {
        if (CCompiler.Path is null)
        {
            Skip = CCompiler.MissingReason;
        }
    }
}
