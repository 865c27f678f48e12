using HekiGuest.HostSim.Control.Filters;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>The --policy file's schema (docs/vmm.md): every key read, every bad key or value one line naming the line and key.</summary>
public sealed class PolicyFileTests
{
    private const string Full = """
        {
          // every key
          "profile": "heki",
          "on-denial": "inject",
          "denials": { "cr-write": "ask", "memory": "stop" },
          "pins": { "cr0": "0x10000", "cr4": 3145728 },
          "filters": [
            { "cr": 4, "bits": "0x100000", "trap": "clear", "action": "deny" },
            { "msr": "0xc0000080", "action": "ask" },
          ],
          "reboot": { "on-triple-fault": "reset", "on-reboot": "stop", "max-resets": 3 },
          "limits": { "timeout": "90s", "max-instructions": 5000000 },
          "vtl1-debug": true,
          "kexec": "deny"
        }
        """;

    [Fact]
    public void Every_key_is_read()
    {
        var p = HostPolicyFile.Parse(Full, "full.json");
        Assert.Equal("heki", p.Profile);
        Assert.Equal(DenialAction.Inject, p.OnDenial);
        Assert.Equal(DenialAction.Ask, p.Denials[DenialKind.CrWrite]);
        Assert.Equal(DenialAction.Stop, p.Denials[DenialKind.Memory]);
        Assert.Equal(2, p.Denials.Count);
        Assert.Equal(0x10000UL, p.PinCr0);
        Assert.Equal(0x300000UL, p.PinCr4);
        Assert.Equal(2, p.Filters.Count);
        Assert.Equal(new FilterRule(FilterAction.Deny) { Cr = 4, Bits = 0x100000, Trigger = CrTrigger.Clear }, p.Filters[0]);
        Assert.Equal(new FilterRule(FilterAction.Ask) { Msr = 0xC0000080 }, p.Filters[1]);
        Assert.Equal(RebootAction.Reset, p.OnTripleFault);
        Assert.Equal(RebootAction.Stop, p.OnReboot);
        Assert.Equal(3, p.MaxResets);
        Assert.Equal(TimeSpan.FromSeconds(90), p.Timeout);
        Assert.Equal(5_000_000, p.MaxInstructions);
        Assert.True(p.Vtl1Debug);
        Assert.False(p.KexecAllowed);
        Assert.True(HostPolicyFile.Parse("{\"kexec\": \"allow\"}", "k.json").KexecAllowed);
        Assert.Null(HostPolicyFile.Parse("{}", "k.json").KexecAllowed);
    }

    [Fact]
    public void An_empty_policy_sets_nothing()
    {
        var p = HostPolicyFile.Parse("{}", "empty.json");
        Assert.Equal(new HostPolicy().Profile, p.Profile);
        Assert.Null(p.OnDenial);
        Assert.Empty(p.Filters);
        Assert.Null(p.Timeout);
    }

    [Theory]
    [InlineData("{\n  \"profile\": \"heki\",\n  \"colour\": \"blue\"\n}", 3, "colour: unknown key")]
    [InlineData("{\n\"limits\": {\n  \"timeout\": \"ten\"\n}}", 3, "limits.timeout: expected a duration")]
    [InlineData("{\n\"limits\": {\"max-instructions\": -5}}", 2, "limits.max-instructions: expected a positive integer")]
    [InlineData("{\n\"limits\": {\"cycles\": 5}}", 2, "limits.cycles: unknown key")]
    [InlineData("{\"profile\": \"kvm\"}", 1, "profile: 'kvm' is not one of")]
    [InlineData("{\n\n\"on-denial\": \"explode\"}", 3, "on-denial: 'explode' is not one of inject, stop, ask")]
    [InlineData("{\"denials\": {\"cr-writes\": \"stop\"}}", 1, "denials.cr-writes: unknown denial kind")]
    [InlineData("{\"pins\": {\"cr3\": 1}}", 1, "pins.cr3: unknown key")]
    [InlineData("{\"pins\": {\"cr4\": \"0x1\"}}", 1, "pins.cr4: bits 0x1 cannot be pinned")]
    [InlineData("{\"pins\": {\"cr0\": \"lots\"}}", 1, "pins.cr0: 'lots' is not a hex number")]
    [InlineData("{\"filters\": {}}", 1, "filters: expected an array")]
    [InlineData("{\"filters\": [\n{\"cr\": 4, \"bits\": 1}]}", 2, "filters[0].action: missing")]
    [InlineData("{\"filters\": [{\"cr\": 4, \"bits\": 1, \"action\": \"deny\"},\n {\"cr\": 3, \"bits\": 1, \"action\": \"deny\"}]}", 2, "filters[1].cr: CR3 cannot be filtered")]
    [InlineData("{\"filters\": [{\"msr\": 16, \"bits\": 1, \"action\": \"deny\"}]}", 1, "filters[0]: an msr rule takes no cr, bits or trap")]
    [InlineData("{\"filters\": [{\"action\": \"deny\"}]}", 1, "filters[0]: a rule names either cr (with bits) or msr")]
    [InlineData("{\"filters\": [{\"cr\": 4, \"bits\": 0, \"action\": \"deny\"}]}", 1, "filters[0].bits: must name at least one bit")]
    [InlineData("{\"filters\": [{\"cr\": 4, \"bits\": 1, \"trap\": \"flip\", \"action\": \"deny\"}]}", 1, "filters[0].trap: 'flip' is not one of clear, set, change")]
    [InlineData("{\"reboot\": {\"on-triple-fault\": \"panic\"}}", 1, "reboot.on-triple-fault: 'panic' is not one of stop, reset")]
    [InlineData("{\"reboot\": {\"max-resets\": 1.5}}", 1, "reboot.max-resets: expected an integer")]
    [InlineData("{\"kexec\": \"maybe\"}", 1, "kexec: 'maybe' is not one of allow, deny")]
    [InlineData("{\"kexec\": true}", 1, "kexec: expected a string")]
    [InlineData("{\"vtl1-debug\": \"yes\"}", 1, "vtl1-debug: expected true or false")]
    [InlineData("{\"profile\": \"heki\", \"profile\": \"none\"}", 1, "profile: given twice")]
    [InlineData("[1]", 1, "policy: expected an object")]
    [InlineData("{\n\"profile\": \"heki\"\n", 3, "")]
    public void A_bad_key_or_value_is_one_line_naming_the_line_and_key(string json, int line, string expected)
    {
        var e = Assert.Throws<PolicyError>(() => HostPolicyFile.Parse(json, "p.json"));
        Assert.StartsWith($"p.json:{line}: {expected}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_a_policy_error()
    {
        var e = Assert.Throws<PolicyError>(() => HostPolicyFile.Load("/nonexistent/policy.json"));
        Assert.StartsWith("cannot read policy file '/nonexistent/policy.json'", e.Message);
    }
}
