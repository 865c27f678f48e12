using HekiGuest.Tools.AbiHeaderGen.Generation;

namespace HekiGuest.Tools.AbiHeaderGen.Tests;

/// <summary>C names follow from C# names by one deterministic rule, and the header has the expected definitions.</summary>
public sealed class NamingTests
{
    [Theory]
    [InlineData("HekiCpuid", "DefaultBase", "HEKI_CPUID_DEFAULT_BASE")]
    [InlineData("HekiMsr", "Cr0PinAllowed", "HEKI_MSR_CR0_PIN_ALLOWED")]
    [InlineData("HekiError", "BadAddress", "HEKI_ERROR_BAD_ADDRESS")]
    [InlineData("HekiCrBits", "Cr4Smep", "HEKI_CR_BITS_CR4_SMEP")]
    [InlineData("HekiCompat", "HekiV3LockCrUpdate", "HEKI_COMPAT_HEKI_V3_LOCK_CR_UPDATE")]
    [InlineData("HekiCompat", "CrPin2020FeatureBit", "HEKI_COMPAT_CR_PIN2020_FEATURE_BIT")]
    [InlineData("HekiIOPorts", "ABCValue", "HEKI_IO_PORTS_ABC_VALUE")]
    [InlineData("Limits", "Max_Count", "HEKI_LIMITS_MAX_COUNT")]
    public void ConstantNames(string type, string member, string expected) =>
        Assert.Equal(expected, CNames.Constant(type, member));

    [Theory]
    [InlineData("HekiRange", "heki_range")]
    [InlineData("Range", "heki_range")]
    [InlineData("GuestPhysicalStart", "guest_physical_start")]
    public void LowerCaseNames(string name, string expected) =>
        Assert.Equal(expected, name.StartsWith("Guest", StringComparison.Ordinal) ? CNames.Field(name) : CNames.Struct(name));

    [Theory]
    [InlineData("#define HEKI_CPUID_DEFAULT_BASE UINT32_C(0x40000100)\n")]
    [InlineData("#define HEKI_MSR_CR0_PIN_ALLOWED UINT32_C(0x0)\n")]
    [InlineData("#define HEKI_CR_BITS_CR4_ALLOWED UINT64_C(0x300800)\n")]
    [InlineData("#define HEKI_ERROR_BAD_ADDRESS INT64_C(-14)\n")]
    [InlineData("#define HEKI_CPUID_VERSION_MINOR_SHIFT INT32_C(16)\n")]
    [InlineData("#define HEKI_DENIAL_PAGE_FAULT_ERROR_BIT UINT32_C(0x80000000)\n")]
    [InlineData("#define HEKI_PROFILE_NAMES_CR_PIN2020 \"cr-pin-2020\"\n")]
    [InlineData("#ifndef HEKI_ABI_H\n#define HEKI_ABI_H\n")]
    [InlineData("#include <stdint.h>\n")]
    [InlineData("GENERATED, DO NOT EDIT. Source: kernel/Sdk/HekiAbi.cs")]
    [InlineData("tools/AbiHeaderGen (abiheadergen)")]
    [InlineData("struct heki_range {\n    uint64_t guest_physical_start; /* offset 0 */\n    uint64_t page_count; /* offset 8 */\n    uint64_t permissions; /* offset 16 */\n};\n")]
    [InlineData("_Static_assert(sizeof(struct heki_range) == 24,")]
    [InlineData("_Static_assert(offsetof(struct heki_range, permissions) == 16,")]
    public void CommittedHeaderHas(string text) =>
        Assert.Contains(text, File.ReadAllText(RepoPaths.CommittedHeader));

    [Fact]
    public void EveryConstantOfHekiAbiIsDefined()
    {
        string header = File.ReadAllText(RepoPaths.CommittedHeader);
        var types = typeof(HekiGuest.Abi.HekiCpuid).Assembly.GetTypes().Where(t => t.Namespace == "HekiGuest.Abi" && t.IsPublic && !t.IsValueType);
        int count = 0;
        foreach (Type type in types)
        {
            foreach (var field in type.GetFields().Where(f => f.IsLiteral))
            {
                Assert.Contains($"#define {CNames.Constant(type.Name, field.Name)} ", header);
                count++;
            }
        }

        Assert.True(count > 70, $"only {count} constants found");
    }
}
