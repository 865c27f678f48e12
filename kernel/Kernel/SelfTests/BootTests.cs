using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Boot;

namespace HekiGuest.Kernel.SelfTests;

// What the loader handed over: protocol, memory map and total, command line, modules.
// mem=MiB and modules=N on the command line state what the host configured.
public sealed unsafe class BootTests : ITestGroup
{
    private readonly BootInfo _info;
    private readonly CommandLine _cmdline;

    public BootTests(BootInfo info, CommandLine cmdline) { _info = info; _cmdline = cmdline; }

    public string Name => "boot";
    public bool Hidden => false;

    public void Run(TestContext t)
    {
        var b = _info;
        var o = t.Out;
        o.Write("  boot: protocol ").Write(b.Protocol == BootProtocol.Multiboot2 ? "multiboot2" : b.Protocol == BootProtocol.Pvh ? "PVH" : "unknown")
            .Write(", info at ").Hex(b.InfoAddress).Line();
        t.Check(b.Error is null, "boot information parsed", b.Error ?? "");
        t.Check(b.Protocol != BootProtocol.Unknown, "boot protocol recognised", "neither multiboot2 nor PVH");

        for (int i = 0; i < b.RegionCount; i++)
        {
            o.Write("  boot: memory ").Hex(b.Regions[i].Base, 9).Write("-").Hex(b.Regions[i].Base + b.Regions[i].Length, 9)
                .Write(" ").Write(TypeName(b.Regions[i].Type)).Line();
        }
        ulong usable = b.UsableBytes;
        o.Write("  boot: usable memory ").UDec(usable).Write(" bytes (").Size(usable).Line(")");
        t.Check(b.RegionCount > 0 && usable > 0, "memory map has usable RAM", "no usable region");
        long expectMiB = _cmdline.GetNumber("mem");
        if (expectMiB == CommandLine.Malformed) t.Fail("memory total matches the host", "mem= is not a decimal number of MiB");
        else if (expectMiB < 0) t.Skip("memory total matches the host", "no mem= on the command line");
        else
        {
            ulong expected = (ulong)expectMiB << 20;
            t.Check(usable <= expected && usable + (4UL << 20) > expected, "memory total matches the host",
                "usable RAM is not within 4 MiB below mem=");
        }

        o.Write("  boot: command line '").Write(_cmdline.Text).Line("'");
        t.Check(b.HasCommandLine && _cmdline.Text == b.CommandLine, "command line received", "no command line");

        long expectModules = _cmdline.GetNumber("modules");
        for (int i = 0; i < b.ModuleCount; i++)
        {
            BootModule m = b.Modules[i];
            o.Write("  boot: module ").Dec(i).Write(" at ").Hex(m.Start).Write(" size ").UDec(m.Size);
            o.Write(" '").Write(m.Name).Write("'");
            o.Line();
        }
        if (expectModules == CommandLine.Malformed) t.Fail("module count matches the host", "modules= is not a decimal number");
        else if (expectModules < 0) t.Skip("module count matches the host", "no modules= on the command line");
        else t.Equal(b.ModuleCount, expectModules, "module count matches the host");
        for (int i = 0; i < b.ModuleCount; i++) CheckModule(t, b.Modules[i]);
    }

    // Test modules start with "HEKIMOD1 <payload length> <fnv1a-64 hex of payload>\n".
    private static void CheckModule(TestContext t, BootModule m)
    {
        if (m.Start == 0 || m.Start + m.Size > BootInfo.IdentityMapLimit || m.Size < 9) { t.Fail("module contents", "module outside memory or empty"); return; }
        byte* p = (byte*)m.Start;
        const string magic = "HEKIMOD1 ";
        for (int i = 0; i < magic.Length; i++)
            if (p[i] != magic[i]) { t.Skip("module contents", "not a HEKIMOD1 test module"); return; }
        int pos = magic.Length;
        ulong length = 0, hash = 0;
        while (pos < (int)m.Size && p[pos] >= '0' && p[pos] <= '9') length = length * 10 + (ulong)(p[pos++] - '0');
        if (pos >= (int)m.Size || p[pos] != ' ') { t.Fail("module contents", "malformed HEKIMOD1 header"); return; }
        pos++;
        while (pos < (int)m.Size && p[pos] != '\n')
        {
            int d = Hex(p[pos++]);
            if (d < 0) { t.Fail("module contents", "malformed hash in header"); return; }
            hash = (hash << 4) | (uint)d;
        }
        pos++;
        if ((ulong)pos + length != m.Size) { t.Fail("module contents", "module size disagrees with its header"); return; }
        ulong h = 14695981039346656037UL;
        for (ulong i = 0; i < length; i++) h = (h ^ p[(ulong)pos + i]) * 1099511628211UL;
        t.EqualHex(h, hash, "module contents");
    }

    private static int Hex(byte c) => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

    private static string TypeName(MemoryType t) => t switch
    {
        MemoryType.Usable => "usable",
        MemoryType.Reserved => "reserved",
        MemoryType.AcpiReclaimable => "ACPI reclaimable",
        MemoryType.AcpiNvs => "ACPI NVS",
        MemoryType.Bad => "bad",
        _ => "other",
    };
}
