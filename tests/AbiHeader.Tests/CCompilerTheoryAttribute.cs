namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>A theory that needs the system C compiler: skipped, with the reason, when there is none.</summary>
public sealed class CCompilerTheoryAttribute : TheoryAttribute
{
    public CCompilerTheoryAttribute()
    {
        if (CCompiler.Path is null)
        {
            Skip = CCompiler.MissingReason;
        }
    }
}
