namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Everything one verification found; printed by <see cref="Reporting.ReportWriter"/>.</summary>
public sealed class VerificationReport
{
    public required IReadOnlyList<SectionSummary> Sections { get; init; }
    public required IReadOnlyList<Violation> Violations { get; init; }
    public required IReadOnlyList<Code32Range> Code32Ranges { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required AddressRange SealedRange { get; init; }

    /// <summary>Executable bytes examined (every byte of every PF_X PT_LOAD segment).</summary>
    public ulong BytesScanned { get; init; }

    /// <summary>Iced decodes run by the every-offset scan (offsets passing the pre-check, per bitness).</summary>
    public long GadgetDecodes { get; init; }

    public long SealedInside => Sections.Sum(s => s.SealedInside);
    public long Instructions => Sections.Sum(s => s.Instructions);
    public long UndecodableBytes => Sections.Sum(s => s.UndecodableBytes);
    public bool IsClean => Violations.Count == 0;
}
