using System.Globalization;
using HekiGuest.Tools.SealCheck.Analysis;

namespace HekiGuest.Tools.SealCheck.Reporting;

/// <summary>Prints a <see cref="VerificationReport"/>: header, per-section table, violations, verdict line.</summary>
public static class ReportWriter
{
    public static void Write(TextWriter output, string fileName, VerificationReport report)
    {
        output.WriteLine($"sealcheck: {fileName}: {report.BytesScanned} executable bytes, {KernelVerifier.SealedSectionName} at {report.SealedRange}");
        foreach (Code32Range range in report.Code32Ranges)
        {
            output.WriteLine($"  32-bit code: {range.StartSymbol}..{range.EndSymbol} {range.Range} ({range.Range.Length} bytes)");
        }

        foreach (string note in report.Notes)
        {
            output.WriteLine($"  note: {note}");
        }

        WriteTable(output, report);
        if (report.Violations.Count > 0)
        {
            output.WriteLine($"violations ({report.Violations.Count}):");
            foreach (Violation violation in report.Violations)
            {
                output.WriteLine($"  {violation.Message}");
            }
        }

        output.WriteLine(Verdict(report));
    }

    public static string Verdict(VerificationReport report) => report.IsClean
        ? $"sealcheck: OK ({report.SealedInside} sealed-class instructions, all inside {KernelVerifier.SealedSectionName})"
        : $"sealcheck: FAIL ({report.Violations.Count} violation{(report.Violations.Count == 1 ? "" : "s")})";

    private static void WriteTable(TextWriter output, VerificationReport report)
    {
        string[] header = ["section", "address range", "bytes", "bits", "insns", "undecodable", "sealed-in", "sealed-out", "gadgets"];
        var rows = new List<string[]> { header };
        foreach (SectionSummary s in report.Sections)
        {
            rows.Add([s.Name, s.Range.ToString(), N(s.Bytes), s.BitnessText, N(s.Instructions), N(s.UndecodableBytes),
                N(s.SealedInside), N(s.SealedOutside), N(s.Gadgets)]);
        }

        rows.Add(["total", "", N(report.BytesScanned), "", N(report.Instructions), N(report.UndecodableBytes),
            N(report.SealedInside), N(report.Sections.Sum(s => s.SealedOutside)), N(report.Sections.Sum(s => s.Gadgets))]);
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(c => rows.Max(r => r[c].Length))];
        foreach (string[] row in rows)
        {
            var cells = row.Select((cell, c) => c < 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            output.WriteLine(("  " + string.Join("  ", cells)).TrimEnd());
        }
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string N(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
