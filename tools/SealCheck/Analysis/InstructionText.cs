using System.Text;
using Iced.Intel;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>Renders instructions (Iced Intel syntax) and their bytes for violation messages.</summary>
public sealed class InstructionText
{
    private readonly IntelFormatter _formatter;
    private readonly StringOutput _output = new();

    public InstructionText()
    {
        _formatter = new IntelFormatter();
        _formatter.Options.HexPrefix = "0x";
        _formatter.Options.HexSuffix = "";
        _formatter.Options.UppercaseHex = false;
        _formatter.Options.SpaceAfterOperandSeparator = true;
    }

    public string Format(in Instruction instruction)
    {
        _formatter.Format(instruction, _output);
        return _output.ToStringAndReset();
    }

    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
