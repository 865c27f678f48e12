namespace HekiGuest.Tests.Build;

/// <summary>The lines of a guest's serial transcript the sample tests compare.</summary>
public sealed class GuestTranscript
{
    public GuestTranscript(string text)
    {
        Lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
    }

    public IReadOnlyList<string> Lines { get; }

    /// <summary>The SDK's hardening report: unindented lines starting with "heki: ".</summary>
    public IReadOnlyList<string> HekiLines => Lines.Where(l => l.StartsWith("heki: ", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<string> Failures => Lines.Where(l => l.StartsWith("FAIL: ", StringComparison.Ordinal)).ToList();

    public int Passes => Lines.Count(l => l.StartsWith("PASS: ", StringComparison.Ordinal));

    public string? Summary => Lines.LastOrDefault(l => l.StartsWith("SUMMARY: ", StringComparison.Ordinal));
}
