using System.CommandLine;
using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Tools.SealCheck.Benchmarking;
using HekiGuest.Elf;
using HekiGuest.Tools.SealCheck.Reporting;
using HekiGuest.Tools.SealCheck.Synthetic;

namespace HekiGuest.Tools.SealCheck.Cli;

/// <summary>
/// The sealcheck command line. <see cref="Run"/> is the whole program, usable in-process:
/// exit code 0 = clean, 1 = violations, 2 = malformed or unexpected input (one line on stderr).
/// </summary>
public static class SealCheckCommand
{
    public const int ExitClean = 0;
    public const int ExitViolations = 1;
    public const int ExitBadInput = 2;

    /// <summary>Largest file accepted; a kernel ELF is a few MiB at most.</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var kernel = new Argument<string?>("kernel-elf")
            {
                Description = "The kernel ELF64 x86-64 executable to verify",
                Arity = ArgumentArity.ZeroOrOne,
            };
            var listClass = new Option<bool>("--list-class") { Description = "Print the sealed instruction class and exit" };
            var bench = new Option<int?>("--bench")
            {
                Description = "Time the in-process verification over N warm runs (plus one cold run) and print wall time and bytes/s",
                HelpName = "N",
            };
            var nativeOnly = new Option<bool>("--native-bitness-only")
            {
                Description = "Decode each byte offset only with its own bitness (skip the other-bitness gadget scan)",
            };
            var fullDecode = new Option<bool>("--full-decode")
            {
                Description = "Run the decoder at literally every byte offset instead of only where the exact 'prefixes then 0F' pre-check passes (same findings, slower)",
            };
            var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only violations and the verdict line" };
            var writeSample = new Option<string?>("--write-sample")
            {
                Description = "Write a clean synthetic kernel ELF (Iced-assembled code, see --sample-kib) to PATH and exit",
                HelpName = "PATH",
            };
            var sampleKib = new Option<int>("--sample-kib")
            {
                Description = "Size of the synthetic kernel's .text in KiB",
                HelpName = "KiB",
                DefaultValueFactory = _ => 256,
            };

            var root = new RootCommand("sealcheck: verify that every sealed-class instruction of a kernel ELF lies inside .heki.sealed")
            {
                kernel, listClass, bench, nativeOnly, fullDecode, quiet, writeSample, sampleKib,
            };
            root.SetAction(parse => Execute(new Request(
                parse.GetValue(kernel), parse.GetValue(listClass), parse.GetValue(bench), parse.GetValue(nativeOnly), parse.GetValue(fullDecode),
                parse.GetValue(quiet), parse.GetValue(writeSample), parse.GetValue(sampleKib)), stdout, stderr));

            ParseResult result = root.Parse(args);
            if (result.Errors.Count > 0)
            {
                return Error(stderr, string.Join("; ", result.Errors.Select(e => e.Message)));
            }

            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ElfFormatException or KernelContractException)
        {
            return Error(stderr, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Error(stderr, $"internal error ({e.GetType().Name}): {e.Message}");
        }
    }

    private sealed record Request(string? Kernel, bool ListClass, int? BenchRuns, bool NativeOnly, bool FullDecode, bool Quiet, string? WriteSample, int SampleKib);

    private static int Execute(Request request, TextWriter stdout, TextWriter stderr)
    {
        if (request.ListClass)
        {
            ClassTableWriter.Write(stdout);
            return ExitClean;
        }

        if (request.WriteSample is not null)
        {
            return WriteSample(request, stdout, stderr);
        }

        if (string.IsNullOrEmpty(request.Kernel))
        {
            return Error(stderr, "missing kernel ELF argument (usage: sealcheck <kernel.elf>; see --help)");
        }

        if (request.BenchRuns is < 1 or > 100_000)
        {
            return Error(stderr, $"--bench needs a run count from 1 to 100000, not {request.BenchRuns}");
        }

        byte[]? file = ReadKernel(request.Kernel, stderr, out int readError);
        if (file is null)
        {
            return readError;
        }

        var options = new VerifierOptions(ScanOtherBitness: !request.NativeOnly, FullDecode: request.FullDecode);
        string name = request.Kernel;
        try
        {
            if (request.BenchRuns is int runs)
            {
                VerificationBenchmark.Result result = VerificationBenchmark.Measure(file, runs, options);
                VerificationBenchmark.Write(stdout, name, result);
                stdout.WriteLine(ReportWriter.Verdict(result.Report));
                return result.Report.IsClean ? ExitClean : ExitViolations;
            }

            VerificationReport report = KernelVerifier.Verify(ElfImage.Parse(file, ElfRequirements.Elf64Executable), options);
            if (request.Quiet)
            {
                foreach (Violation violation in report.Violations)
                {
                    stdout.WriteLine($"  {violation.Message}");
                }

                stdout.WriteLine(ReportWriter.Verdict(report));
            }
            else
            {
                ReportWriter.Write(stdout, name, report);
            }

            return report.IsClean ? ExitClean : ExitViolations;
        }
        catch (Exception e) when (e is ElfFormatException or KernelContractException)
        {
            return Error(stderr, $"{name}: {e.Message}");
        }
    }

    private static int WriteSample(Request request, TextWriter stdout, TextWriter stderr)
    {
        if (request.SampleKib is < 1 or > 65536)
        {
            return Error(stderr, $"--sample-kib needs a size from 1 to 65536, not {request.SampleKib}");
        }

        byte[] image = SyntheticKernel.Create(request.SampleKib);
        try
        {
            File.WriteAllBytes(request.WriteSample!, image);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Error(stderr, $"cannot write {request.WriteSample}: {e.Message}");
        }

        stdout.WriteLine($"sealcheck: wrote {request.WriteSample} ({image.Length} bytes, {request.SampleKib} KiB of .text)");
        return ExitClean;
    }

    private static byte[]? ReadKernel(string path, TextWriter stderr, out int exitCode)
    {
        exitCode = ExitBadInput;
        try
        {
            if (Directory.Exists(path))
            {
                Error(stderr, $"{path}: is a directory, not an ELF file");
                return null;
            }

            var info = new FileInfo(path);
            if (!info.Exists && path.StartsWith('-'))
            {
                Error(stderr, $"unknown option {path} (see --help)");
                return null;
            }

            if (!info.Exists)
            {
                Error(stderr, $"{path}: no such file");
                return null;
            }

            if (info.Length > MaxFileBytes)
            {
                Error(stderr, $"{path}: {info.Length} bytes is too large for a kernel ELF (limit {MaxFileBytes})");
                return null;
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Error(stderr, $"{path}: cannot read: {e.Message}");
            return null;
        }
    }

    private static int Error(TextWriter stderr, string message)
    {
        string oneLine = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        stderr.WriteLine($"sealcheck: error: {oneLine}");
        return ExitBadInput;
    }
}
