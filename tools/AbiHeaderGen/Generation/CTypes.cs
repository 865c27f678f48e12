using System.Globalization;
using System.Text;
using HekiGuest.Tools.AbiHeaderGen.Cli;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>
/// C11 types and literals for C# values: fixed-width &lt;stdint.h&gt; types for fields, and
/// UINTn_C (hexadecimal) / INTn_C (decimal) constant macros so every constant has exactly the
/// C# type's width and signedness; strings become C string literals (printable ASCII only).
/// </summary>
public static class CTypes
{
    public static bool IsFieldType(Type type) => FieldTypeOrNull(type) is not null;

    public static string FieldType(Type type) =>
        FieldTypeOrNull(type) ?? throw new AbiGenException(ExitCodes.Unsupported, $"type {type.Name} has no fixed C equivalent");

    private static string? FieldTypeOrNull(Type type) => Type.GetTypeCode(type) switch
    {
        _ when type.IsEnum => null,
        TypeCode.Byte => "uint8_t",
        TypeCode.SByte => "int8_t",
        TypeCode.UInt16 => "uint16_t",
        TypeCode.Int16 => "int16_t",
        TypeCode.UInt32 => "uint32_t",
        TypeCode.Int32 => "int32_t",
        TypeCode.UInt64 => "uint64_t",
        TypeCode.Int64 => "int64_t",
        _ => null,
    };

    /// <summary>The C expression for a constant, or an <see cref="AbiGenException"/> naming it.</summary>
    public static string Literal(string what, Type type, object value) => Type.GetTypeCode(type) switch
    {
        _ when type.IsEnum => throw Unsupported(what, type),
        TypeCode.Byte => Unsigned(8, (byte)value),
        TypeCode.UInt16 => Unsigned(16, (ushort)value),
        TypeCode.UInt32 => Unsigned(32, (uint)value),
        TypeCode.UInt64 => Unsigned(64, (ulong)value),
        TypeCode.Char => Unsigned(16, (char)value),
        TypeCode.SByte => Signed(8, (sbyte)value, sbyte.MinValue),
        TypeCode.Int16 => Signed(16, (short)value, short.MinValue),
        TypeCode.Int32 => Signed(32, (int)value, int.MinValue),
        TypeCode.Int64 => Signed(64, (long)value, long.MinValue),
        TypeCode.Boolean => (bool)value ? "1" : "0",
        TypeCode.String => StringLiteral(what, (string)value),
        _ => throw Unsupported(what, type),
    };

    private static AbiGenException Unsupported(string what, Type type) =>
        new(ExitCodes.Unsupported, $"{what}: a const of type {type.Name} has no exact C equivalent (use an integer, bool or string)");

    private static string Unsigned(int bits, ulong value) =>
        string.Create(CultureInfo.InvariantCulture, $"UINT{bits}_C(0x{value:X})");

    private static string Signed(int bits, long value, long minimum) =>
        value == minimum
            // -2^(n-1) cannot be written as a negated literal of type intN_t.
            ? string.Create(CultureInfo.InvariantCulture, $"(-INT{bits}_C({-(value + 1)}) - 1)")
            : string.Create(CultureInfo.InvariantCulture, $"INT{bits}_C({value})");

    private static string StringLiteral(string what, string value)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{what}: string constants must be printable ASCII (found U+{(int)c:X4})");
            }

            if (c is '"' or '\\' or '?')
            {
                text.Append('\\');
            }

            text.Append(c);
        }

        return text.Append('"').ToString();
    }
}
