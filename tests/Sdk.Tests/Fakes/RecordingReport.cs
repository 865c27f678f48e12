using System.Text;

namespace HekiGuest.Sdk.Tests.Fakes;

/// <summary>Collects the hardening report as lines, formatted the way the kernel's console does.</summary>
public sealed class RecordingReport : IHardeningReport
{
    private readonly StringBuilder _line = new();
    public readonly List<string> Lines = new();

    public void Text(string text) => _line.Append(text);
    public void Decimal(long value) => _line.Append(value);
    public void Hex(ulong value) => _line.Append("0x").Append(value.ToString("x"));
    public void EndLine() { Lines.Add(_line.ToString()); _line.Clear(); }
}
