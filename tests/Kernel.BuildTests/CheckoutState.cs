namespace HekiGuest.Tests.Build;

/// <summary>
/// What git sees in the SDK's sources, ignored files included (`git status --porcelain --ignored`):
/// an obj/ directory written into them is ignored by .gitignore, so only the --ignored listing
/// shows it. The paths a guest build reads: kernel/ (corelib, SDK, platform), tools/ (sealcheck and
/// the ELF reader it is built from), mk/, samples/, the tool manifest and the root build files;
/// not tests/ or hostsim/, which other test projects running at the same time may write to.
/// </summary>
public static class CheckoutState
{
    private const string SdkPaths = "kernel tools mk samples .config Directory.Build.props Directory.Packages.props global.json";

    /// <summary>`git status --porcelain` of the whole checkout (empty in CI): nothing tracked or
    /// untracked-and-not-ignored may appear.</summary>
    public static IReadOnlyList<string> ReadVisible(string root) => Status(root, "status --porcelain");

    /// <summary>The SDK's sources with ignored files (obj/, bin/) listed too.</summary>
    public static IReadOnlyList<string> Read(string root) => Status(root, "status --porcelain --ignored -- " + SdkPaths);

    private static IReadOnlyList<string> Status(string root, string arguments)
    {
        var r = ProcessResult.Run("git", arguments, root, TimeSpan.FromMinutes(1));
        if (r.ExitCode != 0) throw new InvalidOperationException("git status failed: " + r.Output);
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
