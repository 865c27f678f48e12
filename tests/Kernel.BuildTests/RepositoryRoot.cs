namespace HekiGuest.Tests.Build;

/// <summary>The repository root: the folder above the test assembly that holds HekiGuest.sln.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HekiGuest.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("HekiGuest.sln not found above " + AppContext.BaseDirectory);
    }
}
