using System.CommandLine;
using System.Text;
using HekiGuest.Tools.AbiHeaderGen.Generation;

namespace HekiGuest.Tools.AbiHeaderGen.Cli;

/// <summary>
/// The abiheadergen command line; <see cref="Run"/> is the whole program, usable in-process.
///   abiheadergen SOURCE                    the header on stdout
///   abiheadergen SOURCE --output FILE      write it to FILE
///   abiheadergen SOURCE --check FILE       exit 1 when FILE differs from it (a stale header)
/// Every failure is one line on stderr and an exit code of <see cref="ExitCodes"/>.
/// </summary>
public static class AbiHeaderCommand
{
    /// <summary>Largest source accepted; HekiAbi.cs is a few KiB.</summary>
    public const long MaxSourceBytes = 1024 * 1024;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var source = new Argument<string>("source") { Description = "The C# ABI source (kernel/Sdk/HekiAbi.cs)" };
            var output = new Option<string?>("--output", "-o") { Description = "Write the header to FILE instead of stdout", HelpName = "FILE" };
            var check = new Option<string?>("--check") { Description = "Compare FILE with the header; exit 1 when it differs (stale) or is missing", HelpName = "FILE" };
            var label = new Option<string>("--source-label")
            {
                Description = "How the header's comment names the source (the path itself is never written, so the output does not depend on where the tree is)",
                HelpName = "TEXT",
                DefaultValueFactory = _ => AbiHeaderGenerator.DefaultSourceLabel,
            };
            var root = new RootCommand("abiheadergen: write the C11 header heki_abi.h from the HekiGuest ABI source")
            {
                source, output, check, label,
            };
            root.SetAction(parse => Execute(parse.GetValue(source)!, parse.GetValue(output), parse.GetValue(check), parse.GetValue(label)!, stdout, stderr));

            ParseResult result = root.Parse(args);
            if (result.Errors.Count > 0)
            {
                return Error(stderr, ExitCodes.Usage, string.Join("; ", result.Errors.Select(e => e.Message)) + " (see --help)");
            }

            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (AbiGenException e)
        {
            return Error(stderr, e.ExitCode, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Error(stderr, ExitCodes.Internal, $"internal error ({e.GetType().Name}): {OneLine(e.Message)}");
        }
    }

    private static int Execute(string source, string? output, string? check, string label, TextWriter stdout, TextWriter stderr)
    {
        if (output is not null && check is not null)
        {
            return Error(stderr, ExitCodes.Usage, "--output and --check exclude each other (see --help)");
        }

        if (label.Length == 0 || label.Any(c => c is < ' ' or > '~' or '*' or '"' or '\\'))
        {
            return Error(stderr, ExitCodes.Usage, "--source-label must be non-empty printable ASCII without '*', '\"' or '\\'");
        }

        string header = AbiHeaderGenerator.Generate(ReadSource(source), label);
        if (check is not null)
        {
            return Check(check, header, label, stdout, stderr);
        }

        if (output is null)
        {
            stdout.Write(header);
            return ExitCodes.Ok;
        }

        try
        {
            File.WriteAllText(output, header, Utf8NoBom);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Error(stderr, ExitCodes.OutputUnwritable, $"cannot write {output}: {OneLine(e.Message)}");
        }

        stdout.WriteLine($"abiheadergen: wrote {output}");
        return ExitCodes.Ok;
    }

    private static string ReadSource(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (Directory.Exists(path))
            {
                throw new AbiGenException(ExitCodes.SourceUnreadable, $"{path}: is a directory, not a C# source file");
            }

            if (!info.Exists)
            {
                throw new AbiGenException(ExitCodes.SourceUnreadable, $"{path}: no such file");
            }

            if (info.Length > MaxSourceBytes)
            {
                throw new AbiGenException(ExitCodes.SourceUnreadable, $"{path}: {info.Length} bytes, larger than the {MaxSourceBytes} accepted for an ABI source");
            }

            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new AbiGenException(ExitCodes.SourceUnreadable, $"cannot read {path}: {OneLine(e.Message)}");
        }
    }

    private static int Check(string path, string header, string label, TextWriter stdout, TextWriter stderr)
    {
        string committed;
        try
        {
            committed = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Error(stderr, ExitCodes.Stale, $"{path} is missing; run `make abi-header` and commit it");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Error(stderr, ExitCodes.Stale, $"cannot read {path}: {OneLine(e.Message)}");
        }

        if (committed == header)
        {
            stdout.WriteLine($"abiheadergen: {path} is up to date with {label}");
            return ExitCodes.Ok;
        }

        return Error(stderr, ExitCodes.Stale,
            $"{path} is stale: it differs from what {label} generates (first difference at line {FirstDifferentLine(committed, header)}); run `make abi-header` and commit it");
    }

    internal static int FirstDifferentLine(string a, string b)
    {
        string[] left = a.Split('\n');
        string[] right = b.Split('\n');
        int i = 0;
        while (i < left.Length && i < right.Length && left[i] == right[i])
        {
            i++;
        }

        return i + 1;
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private static int Error(TextWriter stderr, int code, string message)
    {
        stderr.WriteLine($"abiheadergen: error: {OneLine(message)}");
        return code;
    }
}
