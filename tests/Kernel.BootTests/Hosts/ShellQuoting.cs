namespace HekiGuest.Tests.Boot;

/// <summary>Renders a command for a POSIX shell so failure messages show a command a person can paste.</summary>
public static class ShellQuoting
{
    /// <summary>The program and its arguments, each quoted only when it needs to be.</summary>
    public static string Join(string program, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { program }.Concat(arguments).Select(Quote));

    /// <summary>One word, single-quoted when it holds anything but safe characters.</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(IsSafe))
        {
            return word;
        }

        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static bool IsSafe(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ',' or '=' or ':' or '+' or '@' or '%';
}
