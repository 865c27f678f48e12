using System.Globalization;
using System.Text;
using HekiGuest.Tools.AbiHeaderGen.Cli;
using HekiGuest.Tools.AbiHeaderGen.Model;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>
/// Writes the C11 header: a "generated, do not edit" comment naming the source and the tool, an
/// include guard, &lt;stddef.h&gt; and &lt;stdint.h&gt;, one #define per constant, each struct with its
/// fields in C# order, and _Static_asserts on every struct's size and every field's offset. The
/// text depends only on the model and the source label: LF line ends, no dates, no paths.
/// </summary>
public static class HeaderWriter
{
    public const string FileName = "heki_abi.h";
    public const string Guard = "HEKI_ABI_H";

    public static string Write(AbiModel model, string sourceLabel)
    {
        var h = new StringBuilder();
        void Line(string text = "") => h.Append(text).Append('\n');

        Line($"/* {FileName}: the HekiGuest host interface (docs/abi.md) for C11 guests.");
        Line(" *");
        Line($" * GENERATED, DO NOT EDIT. Source: {sourceLabel} (namespace {model.Namespace}).");
        Line(" * Generator: tools/AbiHeaderGen (abiheadergen), which compiles that file and reads every");
        Line(" * constant and struct layout by reflection. Regenerate with `make abi-header`; `make test`");
        Line(" * fails while this file differs from what the generator writes (`make check-abi-header`).");
        Line(" */");
        Line($"#ifndef {Guard}");
        Line($"#define {Guard}");
        Line();
        Line("#include <stddef.h>");
        Line("#include <stdint.h>");

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        void Claim(string cName, string what)
        {
            if (!names.TryAdd(cName, what))
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{what} and {names[cName]} both become the C name {cName}");
            }
        }

        foreach (AbiConstantGroup group in model.Groups)
        {
            Line();
            Line($"/* {group.TypeName} */");
            foreach (AbiConstant constant in group.Constants)
            {
                string what = $"{constant.TypeName}.{constant.MemberName}";
                string cName = CNames.Constant(constant.TypeName, constant.MemberName);
                Claim(cName, what);
                Line($"#define {cName} {CTypes.Literal(what, constant.ValueType, constant.Value)}");
            }
        }

        foreach (AbiStruct abiStruct in model.Structs)
        {
            string tag = CNames.Struct(abiStruct.TypeName);
            Claim(tag, abiStruct.TypeName);
            Line();
            Line(string.Create(CultureInfo.InvariantCulture, $"/* {abiStruct.TypeName}: {abiStruct.Size} bytes */"));
            Line($"struct {tag} {{");
            foreach (AbiField field in abiStruct.Fields)
            {
                Line(string.Create(CultureInfo.InvariantCulture, $"    {CTypes.FieldType(field.FieldType)} {CNames.Field(field.Name)}; /* offset {field.Offset} */"));
            }

            Line("};");
            Line(string.Create(CultureInfo.InvariantCulture,
                $"_Static_assert(sizeof(struct {tag}) == {abiStruct.Size}, \"{abiStruct.TypeName} is {abiStruct.Size} bytes in {sourceLabel}\");"));
            foreach (AbiField field in abiStruct.Fields)
            {
                string cField = CNames.Field(field.Name);
                Line(string.Create(CultureInfo.InvariantCulture,
                    $"_Static_assert(offsetof(struct {tag}, {cField}) == {field.Offset}, \"{abiStruct.TypeName}.{field.Name} is at offset {field.Offset}\");"));
                Line(string.Create(CultureInfo.InvariantCulture,
                    $"_Static_assert(sizeof(((struct {tag} *)0)->{cField}) == {field.Size}, \"{abiStruct.TypeName}.{field.Name} is {field.Size} bytes\");"));
            }
        }

        Line();
        Line($"#endif /* {Guard} */");
        return h.ToString();
    }
}
