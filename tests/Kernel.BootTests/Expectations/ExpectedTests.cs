namespace HekiGuest.Tests.Boot;

/// <summary>
/// The tests a default boot must report, read from expected-tests.txt: one <c>group: name</c> per
/// line, <c>skip-ok group: name</c> for a test that may SKIP instead of PASS,
/// <c>skip-on HOST[,HOST] group: name</c> for a test that must SKIP on those hosts and PASS on
/// the others, blank lines and lines starting with '#' ignored.
/// </summary>
public sealed class ExpectedTests
{
    /// <summary>The file's name beside the test assembly.</summary>
    public const string FileName = "expected-tests.txt";

    private const string SkipOkWord = "skip-ok";
    private const string SkipOnWord = "skip-on";

    private ExpectedTests(IReadOnlyList<ExpectedTest> entries) => Entries = entries;

    /// <summary>The entries in file order.</summary>
    public IReadOnlyList<ExpectedTest> Entries { get; }

    /// <summary>Loads expected-tests.txt from beside the test assembly.</summary>
    public static ExpectedTests LoadDefault() => Load(Path.Combine(AppContext.BaseDirectory, FileName));

    /// <summary>Loads and parses <paramref name="path"/>.</summary>
    /// <exception cref="BootSetupException">The file is missing or malformed.</exception>
    public static ExpectedTests Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new BootSetupException($"{path} is missing");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses the file text; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="BootSetupException">A line is malformed or a test is listed twice.</exception>
    public static ExpectedTests Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);

        var entries = new List<ExpectedTest>();
        var seen = new Dictionary<TestId, int>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var lineNumber = index + 1;
            var line = lines[index].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var skipAllowed = false;
            string[] skipOn = [];
            if (line.StartsWith(SkipOkWord + " ", StringComparison.Ordinal))
            {
                skipAllowed = true;
                line = line[SkipOkWord.Length..].Trim();
            }
            else if (line.StartsWith(SkipOnWord + " ", StringComparison.Ordinal))
            {
                line = line[SkipOnWord.Length..].Trim();
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                skipOn = space <= 0 ? [] : line[..space].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (skipOn.Length == 0 || skipOn.Any(h => h.Contains(':', StringComparison.Ordinal)))
                {
                    throw new BootSetupException(
                        $"{source}:{lineNumber}: want 'skip-on HOST[,HOST] group: name', got '{lines[index].Trim()}'");
                }

                line = line[space..].Trim();
            }

            if (!TestId.TryParse(line, out var id))
            {
                throw new BootSetupException(
                    $"{source}:{lineNumber}: want 'group: name', 'skip-ok group: name' or 'skip-on HOST group: name', got '{lines[index].Trim()}'");
            }

            if (!seen.TryAdd(id, lineNumber))
            {
                throw new BootSetupException($"{source}:{lineNumber}: '{id}' is already listed on line {seen[id]}");
            }

            entries.Add(new ExpectedTest(id, skipAllowed, lineNumber) { SkipOn = skipOn });
        }

        return new ExpectedTests(entries);
    }

    /// <summary>The entries whose group is one of <paramref name="groups"/> (for a boot with <c>tests=...</c>).</summary>
    public ExpectedTests ForGroups(IEnumerable<string> groups)
    {
        var wanted = new HashSet<string>(groups, StringComparer.Ordinal);
        return new ExpectedTests(Entries.Where(e => wanted.Contains(e.Id.Group)).ToArray());
    }

    /// <summary>These entries without <paramref name="ids"/> (tests a boot cannot report, e.g. a module check without a module).</summary>
    public ExpectedTests Without(IEnumerable<TestId> ids)
    {
        var dropped = new HashSet<TestId>(ids);
        return new ExpectedTests(Entries.Where(e => !dropped.Contains(e.Id)).ToArray());
    }

    /// <summary>These entries with <paramref name="ids"/> allowed to SKIP (tests a boot gives nothing to check).</summary>
    public ExpectedTests AllowingSkip(IEnumerable<TestId> ids)
    {
        var skippable = new HashSet<TestId>(ids);
        return new ExpectedTests(Entries.Select(e => skippable.Contains(e.Id) ? e with { SkipAllowed = true } : e).ToArray());
    }

    /// <summary>The entry for <paramref name="id"/>, or null.</summary>
    public ExpectedTest? Find(TestId id) => Entries.FirstOrDefault(e => e.Id == id);
}
