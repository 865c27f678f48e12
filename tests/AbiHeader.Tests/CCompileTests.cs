using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using HekiGuest.Abi;
using HekiGuest.Tools.AbiHeaderGen.Generation;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>
/// The committed header compiled by the system C compiler: it is valid C11 under -Werror, its
/// _Static_asserts are really evaluated (a wrong size breaks the build), and a C program built with
/// it prints, for every constant, the same value and width as the C# constant of HekiAbi.cs.
/// </summary>
public sealed class CCompileTests
{
    private static readonly string[] StrictC11 = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic-errors"];

    [CCompilerFact]
    public void HeaderCompilesAsStrictC11()
    {
        var (code, output) = CCompiler.Compile([.. StrictC11, "-fsyntax-only", "-x", "c", RepoPaths.CommittedHeader]);
        Assert.True(code == 0, $"cc rejected heki_abi.h:\n{output}");
    }

    [CCompilerFact]
    public void HeaderCanBeIncludedTwice()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("twice.c"), $"#include \"{RepoPaths.CommittedHeader}\"\n#include \"{RepoPaths.CommittedHeader}\"\nint main(void) {{ return 0; }}\n");
        var (code, output) = CCompiler.Compile([.. StrictC11, "-fsyntax-only", dir.File("twice.c")]);
        Assert.True(code == 0, output);
    }

    [CCompilerTheory]
    [InlineData("    uint64_t page_count;", "    uint32_t page_count;", "HekiRange.PageCount is 8 bytes")]
    [InlineData("    uint64_t page_count;", "    uint64_t extra;\n    uint64_t page_count;", "HekiRange.PageCount is at offset 8")]
    [InlineData("    uint64_t permissions; /* offset 16 */\n", "    uint64_t permissions; /* offset 16 */\n    uint8_t extra;\n", "HekiRange is 24 bytes")]
    public void WrongLayoutFailsTheStaticAsserts(string field, string replacement, string failedAssert)
    {
        // A C guest whose struct disagrees with the C# layout.
        string header = File.ReadAllText(RepoPaths.CommittedHeader);
        Assert.Contains(field, header);
        using var dir = new TempDir();
        string tampered = dir.File("heki_abi.h");
        File.WriteAllText(tampered, header.Replace(field, replacement, StringComparison.Ordinal));
        var (code, output) = CCompiler.Compile([.. StrictC11, "-fsyntax-only", "-x", "c", tampered]);
        Assert.NotEqual(0, code);
        Assert.Contains(failedAssert, output);
    }

    [CCompilerFact]
    public void CProgramPrintsTheCSharpValues()
    {
        var program = new StringBuilder($"#include <stdio.h>\n#include \"{RepoPaths.CommittedHeader}\"\nint main(void)\n{{\n");
        var expected = new StringBuilder();
        foreach (Type type in typeof(HekiCpuid).Assembly.GetTypes().Where(t => t.Namespace == "HekiGuest.Abi" && t.IsPublic).OrderBy(t => t.MetadataToken))
        {
            if (type.IsValueType)
            {
                string tag = CNames.Struct(type.Name);
                program.Append(CultureInfo.InvariantCulture, $"    printf(\"sizeof {tag} %zu\\n\", sizeof(struct {tag}));\n");
                expected.Append(CultureInfo.InvariantCulture, $"sizeof {tag} {Marshal.SizeOf(type)}\n");
                foreach (FieldInfo field in type.GetFields().OrderBy(f => f.MetadataToken))
                {
                    string member = CNames.Field(field.Name);
                    program.Append(CultureInfo.InvariantCulture, $"    printf(\"offsetof {tag}.{member} %zu\\n\", offsetof(struct {tag}, {member}));\n");
                    expected.Append(CultureInfo.InvariantCulture, $"offsetof {tag}.{member} {Marshal.OffsetOf(type, field.Name)}\n");
                }

                continue;
            }

            foreach (FieldInfo field in type.GetFields().Where(f => f.IsLiteral).OrderBy(f => f.MetadataToken))
            {
                string name = CNames.Constant(type.Name, field.Name);
                object value = field.GetRawConstantValue()!;
                switch (value)
                {
                    case string text:
                        program.Append(CultureInfo.InvariantCulture, $"    printf(\"{name} %s\\n\", {name});\n");
                        expected.Append(CultureInfo.InvariantCulture, $"{name} {text}\n");
                        break;
                    case byte or ushort or uint or ulong:
                        program.Append(CultureInfo.InvariantCulture, $"    printf(\"{name} %llu %zu\\n\", (unsigned long long){name}, sizeof({name}));\n");
                        expected.Append(CultureInfo.InvariantCulture, $"{name} {value} {Marshal.SizeOf(value)}\n");
                        break;
                    default:
                        program.Append(CultureInfo.InvariantCulture, $"    printf(\"{name} %lld %zu\\n\", (long long){name}, sizeof({name}));\n");
                        expected.Append(CultureInfo.InvariantCulture, $"{name} {value} {Marshal.SizeOf(value)}\n");
                        break;
                }
            }
        }

        program.Append("    return 0;\n}\n");
        using var dir = new TempDir();
        File.WriteAllText(dir.File("values.c"), program.ToString());
        var (code, output) = CCompiler.Compile([.. StrictC11, "-o", dir.File("values"), dir.File("values.c")]);
        Assert.True(code == 0, $"cc failed on the value program:\n{output}");

        var (exit, printed) = CCompiler.Run(dir.File("values"));
        Assert.Equal(0, exit);
        Assert.Equal(expected.ToString(), printed);
        Assert.Contains("HEKI_ERROR_BAD_ADDRESS -14 8\n", printed);
        Assert.Contains("HEKI_CPUID_DEFAULT_BASE 1073742080 4\n", printed);
        Assert.Contains("sizeof heki_range 24\n", printed);
    }
}
