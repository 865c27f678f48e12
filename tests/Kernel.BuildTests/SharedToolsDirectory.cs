namespace HekiGuest.Tests.Build;

/// <summary>
/// One HEKI_TOOLS directory (the packed and restored sealcheck tool) for the sample tests that do
/// not test the one-command build itself, so the tool is packed once per run, not per test.
/// </summary>
public sealed class SharedToolsDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("heki-tools-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
