namespace HekiGuest.Tests.Boot;

/// <summary>The files a boot needs, as produced by <c>make</c> in $REPO/build.</summary>
/// <param name="KernelElf">build/kernel.elf: ELF64 with a PVH note.</param>
/// <param name="Iso">build/hekiguest.iso: GRUB multiboot2 ISO.</param>
/// <param name="TestModule">build/testmodule.bin: the module passed with -initrd on the PVH path.</param>
public sealed record KernelArtifacts(string KernelElf, string Iso, string TestModule)
{
    /// <summary>Name of the solution file that marks the repository root.</summary>
    public const string SolutionFileName = "HekiGuest.sln";

    /// <summary>The artifacts under <paramref name="repositoryRoot"/>/build.</summary>
    public static KernelArtifacts InRepository(string repositoryRoot)
    {
        var build = Path.Combine(repositoryRoot, "build");
        return new KernelArtifacts(
            Path.Combine(build, "kernel.elf"),
            Path.Combine(build, "hekiguest.iso"),
            Path.Combine(build, "testmodule.bin"));
    }

    /// <summary>The artifacts of the repository that holds the running test assembly.</summary>
    public static KernelArtifacts ForThisRepository() => InRepository(FindRepositoryRoot(AppContext.BaseDirectory));

    /// <summary>Walks up from <paramref name="start"/> to the folder holding HekiGuest.sln.</summary>
    /// <exception cref="BootSetupException">No such folder above <paramref name="start"/>.</exception>
    public static string FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        throw new BootSetupException($"no {SolutionFileName} in '{start}' or any folder above it; run the tests from a HekiGuest checkout");
    }

    /// <summary>Returns <paramref name="path"/> when the file exists, else throws a "run make first" error.</summary>
    /// <exception cref="BootSetupException">The file does not exist.</exception>
    public static string Require(string path)
    {
        if (!File.Exists(path))
        {
            throw new BootSetupException($"{path} is missing: run make first (make test builds it before running dotnet test)");
        }

        return path;
    }
}
