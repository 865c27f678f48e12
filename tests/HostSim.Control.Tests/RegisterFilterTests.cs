using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>
/// The CR-write and MSR-write filter in host userspace: an unmodified guest (no hypervisor
/// awareness) sets CR4.SMEP, tries to clear it, sets CR4.OSFXSR and sets EFER.SCE. With SMEP's
/// clearing and EFER filtered, the guest keeps SMEP and gets #GP for exactly those two writes,
/// under every profile; the traps are "filter" records in --events.
/// </summary>
public sealed class RegisterFilterTests : IDisposable
{
    private const string SmepClearDeny = "{\"cr\": 4, \"bits\": \"0x100000\", \"trap\": \"clear\", \"action\": \"deny\"}";
    private const string EferDeny = "{\"msr\": \"0xc0000080\", \"action\": \"deny\"}";
    private readonly TempFiles _files = new();
    private readonly string _smep;

    public RegisterFilterTests() => _smep = _files.Write("smep.elf", Guests.TogglesSmep());

    public static TheoryData<string> Profiles => new() { "none", "heki", "cr-pin-2020", "heki-v3", "vsm" };

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Without_a_filter_the_guest_clears_smep_and_sets_efer_sce(string profile)
    {
        var r = HostSimProcess.Run(_smep, "--profile", profile, "--quiet", "--timeout", "60s");
        Assert.Equal(Guests.SmepExitCode(smep: false, osfxsr: true, sce: true, gpCount: 0), r.ExitCode);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void The_filter_pins_smep_and_refuses_the_efer_write_under_every_profile(string profile)
    {
        var (result, traps) = Run($"[{SmepClearDeny}, {EferDeny}]", "--profile", profile);
        Assert.Equal(Guests.SmepExitCode(smep: true, osfxsr: true, sce: false, gpCount: 2), result.ExitCode);
        // exactly the two refused writes trapped: setting SMEP and OSFXSR did not
        Assert.Equal(2, traps.Count);
        Assert.Equal("cr4", (string?)traps[0]["register"]);
        Assert.Equal("0x100000", (string?)traps[0]["bits"]);
        Assert.Equal("deny", (string?)traps[0]["verdict"]);
        Assert.Equal("msr", (string?)traps[1]["register"]);
        Assert.Equal("0xc0000080", (string?)traps[1]["msr"]);
        Assert.Equal("deny", (string?)traps[1]["verdict"]);
        // the trapped CR write carries the old and the refused value
        ulong old = Convert.ToUInt64((string)traps[0]["old"]!, 16), value = Convert.ToUInt64((string)traps[0]["value"]!, 16);
        Assert.Equal(Guests.Smep, (uint)(old & ~value));
    }

    [Fact]
    public void Allow_rules_report_the_writes_and_let_them_through()
    {
        var (result, traps) = Run("[{\"cr\": 4, \"bits\": \"0x100000\", \"trap\": \"clear\", \"action\": \"allow\"}, {\"msr\": 3221225600, \"action\": \"allow\"}]");
        Assert.Equal(Guests.SmepExitCode(false, true, true, 0), result.ExitCode);
        Assert.Equal(["allow", "allow"], traps.Select(t => (string)t["verdict"]!));
    }

    [Fact]
    public void A_set_rule_keeps_a_bit_low()
    {
        var (result, traps) = Run("[{\"cr\": 4, \"bits\": \"0x200\", \"trap\": \"set\", \"action\": \"deny\"}]", "--profile", "none");
        Assert.Equal(Guests.SmepExitCode(smep: false, osfxsr: false, sce: true, gpCount: 1), result.ExitCode);
        Assert.Single(traps);
        Assert.Equal("0x200", (string?)traps[0]["bits"]);
    }

    [Fact]
    public void A_change_rule_freezes_a_bit_either_way()
    {
        // setting SMEP traps and is refused; the later write leaves SMEP clear, so it does not trap
        var (result, traps) = Run("[{\"cr\": 4, \"bits\": \"0x100000\", \"trap\": \"change\", \"action\": \"deny\"}]", "--profile", "none");
        Assert.Equal(Guests.SmepExitCode(false, true, true, 1), result.ExitCode);
        Assert.Single(traps);
    }

    [Fact]
    public void Without_a_client_an_ask_rule_denies()
    {
        var (result, traps) = Run($"[{SmepClearDeny.Replace("deny", "ask")}]", "--profile", "none");
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), result.ExitCode);
        Assert.Equal("deny", (string?)traps.Single()["verdict"]);
    }

    [Fact]
    public void The_filter_answers_before_the_heki_pins()
    {
        // both forbid clearing SMEP: the filter refuses first, so there is no Heki denial record
        var (result, traps) = Run($"[{SmepClearDeny}]", "--profile", "heki", "--pin", "cr4=0x100000");
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), result.ExitCode);
        Assert.Single(traps);
        Assert.DoesNotContain(File.ReadAllLines(_files.Path("events.jsonl")), l => l.Contains("\"denial\""));
    }

    private (CliResult Result, List<JsonObject> Traps) Run(string filters, params string[] extra)
    {
        string policy = _files.Write("policy.json", $"{{\"filters\": {filters}}}");
        string events = _files.Path("events.jsonl");
        var r = HostSimProcess.Run([_smep, "--policy", policy, "--events", events, "--quiet", "--timeout", "60s", .. extra]);
        var traps = File.ReadAllLines(events).Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => (string?)o["event"] == "filter").ToList();
        return (r, traps);
    }

    public void Dispose() => _files.Dispose();
}
