using System.Text;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// The x86-64 target description sent for qXfer:features:read:target.xml: gdb's own features
/// org.gnu.gdb.i386.core (rax..r15, rip, eflags, cs..gs, the x87 registers), org.gnu.gdb.i386.sse
/// (xmm0-15, mxcsr) and org.gnu.gdb.i386.segments (fs_base, gs_base), plus hostsim's own
/// org.hekiguest.hostsim.sys with cr0, cr2, cr3, cr4, cr8, efer and kernel_gs_base, so that
/// `p $cr4` and `info registers cr4` work. The register numbers are the order here.
/// </summary>
public static class GdbTargetDescription
{
    public const string Core = "org.gnu.gdb.i386.core";
    public const string Sse = "org.gnu.gdb.i386.sse";
    public const string Segments = "org.gnu.gdb.i386.segments";
    public const string Sys = "org.hekiguest.hostsim.sys";

    public static IReadOnlyList<GdbRegister> Registers { get; } = Build();

    public static GdbRegister? Find(string name) => Registers.FirstOrDefault(r => r.Name == name);

    private static List<GdbRegister> Build()
    {
        var list = new List<GdbRegister>();
        void Add(string name, int bits, string type, string feature, bool writable, string? group = null) =>
            list.Add(new GdbRegister(list.Count, name, bits, type, feature, writable, group));
        foreach (var r in new[] { "rax", "rbx", "rcx", "rdx", "rsi", "rdi" }) Add(r, 64, "int64", Core, true);
        Add("rbp", 64, "data_ptr", Core, true);
        Add("rsp", 64, "data_ptr", Core, true);
        for (int i = 8; i < 16; i++) Add($"r{i}", 64, "int64", Core, true);
        Add("rip", 64, "code_ptr", Core, true);
        Add("eflags", 32, "i386_eflags", Core, true);
        foreach (var s in new[] { "cs", "ss", "ds", "es", "fs", "gs" }) Add(s, 32, "int32", Core, false);
        for (int i = 0; i < 8; i++) Add($"st{i}", 80, "i387_ext", Core, false);
        foreach (var f in new[] { "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop" }) Add(f, 32, "int", Core, false, "float");
        for (int i = 0; i < 16; i++) Add($"xmm{i}", 128, "vec128", Sse, true);
        Add("mxcsr", 32, "i386_mxcsr", Sse, false, "vector");
        Add("fs_base", 64, "int", Segments, false);
        Add("gs_base", 64, "int", Segments, false);
        foreach (var c in new[] { "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "kernel_gs_base" }) Add(c, 64, "int64", Sys, false, "system");
        return list;
    }

    /// <summary>The XML document.</summary>
    public static string Xml { get; } = BuildXml();

    private static string BuildXml()
    {
        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        sb.Append("<architecture>i386:x86-64</architecture>\n");
        string? feature = null;
        foreach (var r in Registers)
        {
            if (r.Feature != feature)
            {
                if (feature is not null) sb.Append("</feature>\n");
                feature = r.Feature;
                sb.Append($"<feature name=\"{feature}\">\n");
                sb.Append(feature switch
                {
                    Core => CoreTypes,
                    Sse => SseTypes,
                    _ => "",
                });
            }
            sb.Append($"  <reg name=\"{r.Name}\" bitsize=\"{r.Bits}\" type=\"{r.Type}\" regnum=\"{r.Number}\"");
            if (r.Group is not null) sb.Append($" group=\"{r.Group}\"");
            sb.Append("/>\n");
        }
        sb.Append("</feature>\n</target>\n");
        return sb.ToString();
    }

    private const string CoreTypes = """
          <flags id="i386_eflags" size="4">
            <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
            <field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
            <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
            <field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
            <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
            <field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
          </flags>

        """;

    private const string SseTypes = """
          <vector id="v4f" type="ieee_single" count="4"/>
          <vector id="v2d" type="ieee_double" count="2"/>
          <vector id="v16i8" type="int8" count="16"/>
          <vector id="v8i16" type="int16" count="8"/>
          <vector id="v4i32" type="int32" count="4"/>
          <vector id="v2i64" type="int64" count="2"/>
          <union id="vec128">
            <field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
            <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
            <field name="uint128" type="uint128"/>
          </union>
          <flags id="i386_mxcsr" size="4">
            <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
            <field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
            <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
            <field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
            <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
          </flags>

        """;
}
