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

    public static IReadOnlyList<string> Read(string root)
    {
        var r = ProcessResult.Run("git", "status --porcelain --ignored -- " + SdkPaths, root, TimeSpan.FromMinutes(1));
        if (r.ExitCode != 0) throw new InvalidOperationException("git status failed: " + r.Output);
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("!! build/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
