namespace HekiGuest.Tests.Build;

/// <summary>
/// What git sees in the SDK checkout, ignored files included (`git status --porcelain --ignored`):
/// an obj/ directory written into the SDK's sources is ignored by .gitignore, so only the
/// --ignored listing shows it. build/ (the SDK's own build output) is left out.
/// </summary>
public static class CheckoutState
{
    public static IReadOnlyList<string> Read(string root)
    {
        var r = ProcessResult.Run("git", "status --porcelain --ignored --untracked-files=all", root, TimeSpan.FromMinutes(1));
        if (r.ExitCode != 0) throw new InvalidOperationException("git status failed: " + r.Output);
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("!! build/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
