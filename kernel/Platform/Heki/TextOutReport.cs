using HekiGuest.Platform.Drivers;
using HekiGuest.Sdk;

namespace HekiGuest.Platform.Heki;

// The SDK's hardening report, written to the kernel console.
public sealed class TextOutReport : IHardeningReport
{
    private readonly TextOut _out;

    public TextOutReport(TextOut o) { _out = o; }

    public void Text(string text) => _out.Write(text);
    public void Decimal(long value) => _out.Dec(value);
    public void Hex(ulong value) => _out.Hex(value);
    public void EndLine() => _out.Line();
}
