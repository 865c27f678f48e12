namespace HekiGuest.Tools.AbiHeaderGen.Cli;

/// <summary>abiheadergen's exit codes: one per kind of failure, each with one line on stderr.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>--check: the header differs from the generator's output (or is missing).</summary>
    public const int Stale = 1;
    /// <summary>Bad command line.</summary>
    public const int Usage = 2;
    /// <summary>The C# source cannot be read.</summary>
    public const int SourceUnreadable = 3;
    /// <summary>The C# source does not compile on its own.</summary>
    public const int SourceDoesNotCompile = 4;
    /// <summary>The source declares something the C header cannot express.</summary>
    public const int Unsupported = 5;
    /// <summary>The output file cannot be written.</summary>
    public const int OutputUnwritable = 6;
    /// <summary>A bug in the tool itself.</summary>
    public const int Internal = 70;
}
