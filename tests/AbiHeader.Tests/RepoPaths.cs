namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>The repository files these tests read, found by walking up to HekiGuest.sln.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string AbiSource => Path.Combine(Root, "kernel", "Sdk", "HekiAbi.cs");

    public static string CommittedHeader => Path.Combine(Root, "kernel", "Sdk", "include", "heki_abi.h");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HekiGuest.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"HekiGuest.sln not found above {AppContext.BaseDirectory}");
    }
}
