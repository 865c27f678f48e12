using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Parses serial output in the kvm-unit-tests format: free text, result lines
/// (<c>PASS: group: name</c>, <c>FAIL: group: name (detail)</c>, <c>SKIP: group: name (reason)</c>,
/// and XPASS/XFAIL/KFAIL), <c>PANIC:</c> lines and one closing SUMMARY line. The format and the
/// counting rules are borrowed from kvm-unit-tests; no code is.
/// </summary>
public static partial class TranscriptParser
{
    private const string SummaryWord = "SUMMARY:";
    private const string PanicWord = "PANIC:";

    /// <summary>Parses <paramref name="text"/>; never throws on malformed input, it reports problems.</summary>
    public static Transcript Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        var lines = SplitLines(text);
        var results = new List<TestResult>();
        var panics = new List<PanicLine>();
        var problems = new List<TranscriptProblem>();
        Summary? summary = null;
        var summaryLines = 0;

        for (var index = 0; index < lines.Count; index++)
        {
            var line = lines[index];
            var lineNumber = index + 1;

            if (ResultKindWords.TryMatchPrefix(line, out var kind, out var restStart))
            {
                if (summaryLines > 0)
                {
                    problems.Add(new(lineNumber, $"result line after SUMMARY: '{line}'"));
                }

                if (TryParseResult(kind, line[restStart..], lineNumber, out var result))
                {
                    results.Add(result);
                }
                else
                {
                    problems.Add(new(lineNumber, $"malformed result line (want 'WORD: group: name [(detail)]'): '{line}'"));
                }
            }
            else if (line.StartsWith(SummaryWord, StringComparison.Ordinal))
            {
                summaryLines++;
                if (summaryLines > 1)
                {
                    problems.Add(new(lineNumber, $"more than one SUMMARY line: '{line}'"));
                }
                else if (TryParseSummary(line, lineNumber, out var parsed))
                {
                    summary = parsed;
                }
                else
                {
                    problems.Add(new(lineNumber, $"malformed SUMMARY line: '{line}'"));
                }
            }
            else if (line.StartsWith(PanicWord, StringComparison.Ordinal))
            {
                panics.Add(new PanicLine(line[PanicWord.Length..].Trim(), lineNumber));
            }
        }

        AddDuplicateProblems(results, problems);
        if (summary is not null)
        {
            AddCountProblems(summary, results, problems);
        }

        return new Transcript(lines, results, summary, panics, problems);
    }

    /// <summary>
    /// Splits into lines: CRLF, LF and a lone CR all end a line; terminal escape sequences (GRUB and
    /// SeaBIOS print some) and other control characters except tab are removed. A final line without
    /// a newline (output cut by a kill) is kept.
    /// </summary>
    public static IReadOnlyList<string> SplitLines(string text)
    {
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        normalized = EscapeSequence().Replace(normalized, string.Empty);
        var parts = normalized.Split('\n');
        var count = parts.Length;
        if (count > 0 && parts[^1].Length == 0)
        {
            count--; // the text ended with a newline
        }

        var lines = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            lines.Add(RemoveControlCharacters(parts[i]));
        }

        return lines;
    }

    private static string RemoveControlCharacters(string line)
    {
        if (!line.Any(c => char.IsControl(c) && c != '\t'))
        {
            return line;
        }

        var builder = new StringBuilder(line.Length);
        foreach (var c in line)
        {
            if (!char.IsControl(c) || c == '\t')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool TryParseResult(ResultKind kind, string rest, int lineNumber, out TestResult result)
    {
        result = null!;
        rest = rest.TrimEnd();
        string? detail = null;
        var head = rest;

        // A parenthesised tail after a space is the detail, on every kind of line: the kernel
        // prints "PASS: runtime: double arithmetic (sqrt 2)" as well as "FAIL: ... (got 3)".
        // Whether it was meant as part of the name is settled at lookup (TestResult.Reports).
        if (rest.EndsWith(')'))
        {
            var open = FindMatchingOpenParenthesis(rest);
            if (open > 0 && rest[open - 1] == ' ')
            {
                detail = rest[(open + 1)..^1];
                head = rest[..(open - 1)];
            }
        }

        if (!TestId.TryParse(head, out var id))
        {
            return false;
        }

        result = new TestResult(kind, id, detail, lineNumber);
        return true;
    }

    private static int FindMatchingOpenParenthesis(string text)
    {
        var depth = 0;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            if (text[i] == ')')
            {
                depth++;
            }
            else if (text[i] == '(')
            {
                depth--;
                if (depth == 0)
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static bool TryParseSummary(string line, int lineNumber, out Summary summary)
    {
        summary = null!;
        var match = SummaryPattern().Match(line);
        if (!match.Success || !TryParseCount(match.Groups["tests"].Value, out var tests))
        {
            return false;
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Capture clause in match.Groups["clause"].Captures)
        {
            var clauseMatch = ClausePattern().Match(clause.Value);
            var what = clauseMatch.Groups["what"].Value.TrimEnd('s');
            if (!TryParseCount(clauseMatch.Groups["n"].Value, out var n) || !counts.TryAdd(what, n))
            {
                return false; // overflowing number or the same clause twice
            }
        }

        summary = new Summary(
            tests,
            counts.GetValueOrDefault("unexpected failure"),
            counts.GetValueOrDefault("known failure"),
            counts.GetValueOrDefault("expected failure"),
            counts.GetValueOrDefault("skipped"),
            lineNumber);
        return true;
    }

    private static bool TryParseCount(string digits, out int value) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static void AddDuplicateProblems(List<TestResult> results, List<TranscriptProblem> problems)
    {
        // Keyed on name and detail: two FAILs that differ only in their detail may be two tests whose
        // names end in parentheses, so only an exact repeat is certain to be a duplicate.
        var seen = new Dictionary<(TestId, string?), int>();
        foreach (var result in results)
        {
            if (!seen.TryAdd((result.Id, result.Detail), result.LineNumber))
            {
                problems.Add(new(
                    result.LineNumber,
                    $"duplicate result for '{result.Id}' (first on line {seen[(result.Id, result.Detail)]}); test names must be unique"));
            }
        }
    }

    private static void AddCountProblems(Summary summary, List<TestResult> results, List<TranscriptProblem> problems)
    {
        void Check(string what, int claimed, int counted)
        {
            if (claimed != counted)
            {
                problems.Add(new(
                    summary.LineNumber,
                    $"SUMMARY says {claimed} {what} but the transcript has {counted} such result lines"));
            }
        }

        Check("tests", summary.Tests, results.Count);
        Check("unexpected failures", summary.UnexpectedFailures, results.Count(r => r.IsUnexpectedFailure));
        Check("known failures", summary.KnownFailures, results.Count(r => r.Kind == ResultKind.KnownFail));
        Check("expected failures", summary.ExpectedFailures, results.Count(r => r.Kind == ResultKind.ExpectedFail));
        Check("skipped", summary.Skipped, results.Count(r => r.Kind == ResultKind.Skip));
    }

    [GeneratedRegex(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_])")]
    private static partial Regex EscapeSequence();

    [GeneratedRegex(@"^SUMMARY: (?<tests>[0-9]+) tests?(?<clause>, [0-9]+ (?:unexpected failures?|known failures?|expected failures?|skipped))*\s*$")]
    private static partial Regex SummaryPattern();

    [GeneratedRegex(@"^, (?<n>[0-9]+) (?<what>.+)$")]
    private static partial Regex ClausePattern();
}
