namespace HekiGuest.Tests.Build;

/// <summary>
/// A copy of one of the SDK's samples in a fresh temporary directory outside the checkout, the way
/// a guest author starts (without the sample's own build/ output), deleted afterwards.
/// </summary>
public sealed class SampleWorkspace : IDisposable
{
    private readonly string _root;

    public SampleWorkspace(string sdkRoot, string sample)
    {
        _root = Directory.CreateTempSubdirectory("heki-sample-").FullName;
        SampleDirectory = Path.Combine(_root, sample);
        Copy(Path.Combine(sdkRoot, "samples", sample), SampleDirectory);
    }

    /// <summary>The sample's directory inside the workspace.</summary>
    public string SampleDirectory { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string dir in Directory.GetDirectories(from))
        {
            string name = Path.GetFileName(dir);
            if (name is "build" or "bin" or "obj") continue;
            Copy(dir, Path.Combine(to, name));
        }
    }
}
