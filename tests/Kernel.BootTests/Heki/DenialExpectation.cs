namespace HekiGuest.Tests.Boot;

/// <summary>
/// A denial the kernel announces before it attacks one of its own host-enforced protections:
/// the informational line <c>heki: expect denial kind=memory access=write gva=0x.. gpa=0x..</c>.
/// Every such line must be matched by exactly one denial event in the host's event log.
/// </summary>
public sealed record DenialExpectation(int LineNumber, IReadOnlyDictionary<string, string> Fields)
{
    private const string Marker = "heki: expect denial ";

    /// <summary>The expectations in transcript order.</summary>
    public static IReadOnlyList<DenialExpectation> FromTranscript(Transcript transcript)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var found = new List<DenialExpectation>();
        for (var i = 0; i < transcript.Lines.Count; i++)
        {
            var line = transcript.Lines[i].Trim();
            if (!line.StartsWith(Marker, StringComparison.Ordinal))
            {
                continue;
            }

            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in line[Marker.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new FormatException($"transcript line {i + 1}: '{pair}' is not key=value in '{line}'");
                }

                fields[pair[..eq]] = pair[(eq + 1)..];
            }

            found.Add(new DenialExpectation(i + 1, fields));
        }

        return found;
    }

    public override string ToString() =>
        $"line {LineNumber}: " + string.Join(' ', Fields.Select(f => $"{f.Key}={f.Value}"));
}
