using HekiGuest.HostSim.Control.Tests.Support;

namespace HekiGuest.HostSim.Control.Tests;

/// <summary>`hostsim run --policy FILE`: the file's keys take effect, options on the command line
/// win over them, and a bad file is one error line with exit code 78.</summary>
public sealed class PolicyCliTests : IDisposable
{
    private readonly TempFiles _files = new();
    private readonly string _smep, _hi, _triple, _resets3;

    public PolicyCliTests()
    {
        _smep = _files.Write("smep.elf", Guests.TogglesSmep());
        _hi = _files.Write("hi.elf", Guests.SaysHi());
        _triple = _files.Write("triple.elf", Guests.TripleFaults());
        _resets3 = _files.Write("resets3.elf", Guests.ResetsUntilBoot(3));
    }

    [Fact]
    public void A_bad_policy_is_one_line_with_file_line_and_key_and_exit_code_78()
    {
        string policy = _files.Write("bad.json", "{\n  \"limits\": {\n    \"timeout\": \"soon\"\n  }\n}\n");
        var r = HostSimProcess.Run(_hi, "--policy", policy);
        Assert.Equal(78, r.ExitCode);
        Assert.Equal($"hostsim: error: {policy}:3: limits.timeout: expected a duration like \"10s\", \"500ms\" or \"2m\" (at most a day)", r.Stderr.Trim());
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void An_unknown_key_exits_78_too()
    {
        string policy = _files.Write("bad.json", "{\"profile\": \"heki\", \"turbo\": true}");
        var r = HostSimProcess.Run(_hi, "--policy", policy);
        Assert.Equal(78, r.ExitCode);
        Assert.Contains($"{policy}:1: turbo: unknown key", r.Stderr);
    }

    [Fact]
    public void A_missing_policy_file_exits_78()
    {
        var r = HostSimProcess.Run(_hi, "--policy", _files.Path("none.json"));
        Assert.Equal(78, r.ExitCode);
        Assert.Contains("cannot read policy file", r.Stderr);
    }

    [Fact]
    public void Limits_come_from_the_file_and_the_command_line_overrides_them()
    {
        string policy = _files.Write("limits.json", "{\"limits\": {\"max-instructions\": 3}}");
        Assert.Equal(124, HostSimProcess.Run(_hi, "--policy", policy, "--quiet").ExitCode);
        Assert.Equal(1, HostSimProcess.Run(_hi, "--policy", policy, "--max-instructions", "1000", "--quiet").ExitCode);
    }

    [Fact]
    public void Pins_come_from_the_file_and_pin_on_the_command_line_replaces_them()
    {
        string policy = _files.Write("pins.json", "{\"pins\": {\"cr4\": \"0x100000\"}}");
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), HostSimProcess.Run(_smep, "--policy", policy, "--quiet").ExitCode);
        Assert.Equal(Guests.SmepExitCode(false, true, true, 0), HostSimProcess.Run(_smep, "--policy", policy, "--pin", "cr0=0x10000", "--quiet").ExitCode);
    }

    [Fact]
    public void Denial_actions_come_from_the_file_and_on_denial_overrides_every_kind()
    {
        string policy = _files.Write("deny.json", "{\"pins\": {\"cr4\": \"0x100000\"}, \"denials\": {\"cr-write\": \"stop\"}}");
        var stopped = HostSimProcess.Run(_smep, "--policy", policy);
        Assert.Equal(73, stopped.ExitCode);
        Assert.Contains("cr-write denied", stopped.Stderr);
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), HostSimProcess.Run(_smep, "--policy", policy, "--on-denial", "inject", "--quiet").ExitCode);
    }

    [Fact]
    public void The_profile_comes_from_the_file_and_the_command_line_overrides_it()
    {
        // pins need a host interface: a file choosing none makes them a usage error, --profile heki fixes it
        string policy = _files.Write("none.json", "{\"profile\": \"none\", \"pins\": {\"cr4\": \"0x100000\"}}");
        var r = HostSimProcess.Run(_smep, "--policy", policy);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--profile none has none", r.Stderr);
        Assert.Equal(Guests.SmepExitCode(true, true, true, 1), HostSimProcess.Run(_smep, "--policy", policy, "--profile", "heki", "--quiet").ExitCode);
    }

    [Fact]
    public void A_triple_fault_resets_the_vm_up_to_max_resets_when_the_policy_says_reset()
    {
        string policy = _files.Write("reboot.json", "{\"reboot\": {\"on-triple-fault\": \"reset\", \"max-resets\": 2}}");
        var r = HostSimProcess.Run(_triple, "--policy", policy);
        Assert.Equal(70, r.ExitCode);
        Assert.Contains("reset 1 of at most 2", r.Stderr);
        Assert.Contains("reset 2 of at most 2", r.Stderr);
        Assert.DoesNotContain("reset 3", r.Stderr);
        // the default is stop (no reset)
        var plain = HostSimProcess.Run(_triple);
        Assert.Equal(70, plain.ExitCode);
        Assert.DoesNotContain("reset 1", plain.Stderr);
    }

    [Fact]
    public void A_guest_reset_request_reboots_by_default_with_cmos_kept_and_reset_events()
    {
        string events = _files.Path("events.jsonl");
        var r = HostSimProcess.Run(_resets3, "--events", events);
        Assert.Equal((3 << 1) | 1, r.ExitCode);
        Assert.Contains("hostsim: guest reset request: port 0xcf9 value 0x06 (hard reset); reset 1 of at most 8 (--on-reboot reboot)", r.Stderr);
        Assert.Contains("reset 2 of at most 8", r.Stderr);
        string[] records = File.ReadAllLines(events);
        Assert.Equal(
            [
                "{\"event\":\"reset\",\"reason\":\"guest-reset\",\"source\":\"guest reset request: port 0xcf9 value 0x06 (hard reset)\",\"count\":1}",
                "{\"event\":\"reset\",\"reason\":\"guest-reset\",\"source\":\"guest reset request: port 0xcf9 value 0x06 (hard reset)\",\"count\":2}",
            ],
            records);
    }

    [Fact]
    public void On_reboot_stop_stops_at_the_first_request_with_exit_code_74()
    {
        var r = HostSimProcess.Run(_resets3, "--on-reboot", "stop");
        Assert.Equal(74, r.ExitCode);
        Assert.Contains("guest reset request: port 0xcf9 value 0x06 (hard reset); stopped: --on-reboot stop", r.Stderr);
        Assert.DoesNotContain("reset 1 of", r.Stderr);
        Assert.DoesNotContain("  RIP ", r.Stderr);     // not a crash: no report
    }

    [Fact]
    public void On_reboot_comes_from_the_file_and_the_command_line_overrides_it()
    {
        string stop = _files.Write("stop.json", "{\"reboot\": {\"on-reboot\": \"stop\"}}");
        Assert.Equal(74, HostSimProcess.Run(_resets3, "--policy", stop, "--quiet").ExitCode);
        Assert.Equal((3 << 1) | 1, HostSimProcess.Run(_resets3, "--policy", stop, "--on-reboot", "reboot", "--quiet").ExitCode);
        string reboot = _files.Write("reboot.json", "{\"reboot\": {\"on-reboot\": \"reboot\"}}");
        Assert.Equal(74, HostSimProcess.Run(_resets3, "--policy", reboot, "--on-reboot", "stop", "--quiet").ExitCode);
    }

    [Fact]
    public void Max_resets_bounds_the_reboots()
    {
        string policy = _files.Write("bounded.json", "{\"reboot\": {\"max-resets\": 1}}");
        var r = HostSimProcess.Run(_resets3, "--policy", policy);
        Assert.Equal(74, r.ExitCode);
        Assert.Contains("reset 1 of at most 1", r.Stderr);
        Assert.Contains("stopped: 1 resets already (reboot.max-resets)", r.Stderr);
    }

    [Fact]
    public void A_bad_on_reboot_is_one_line()
    {
        var r = HostSimProcess.Run(_resets3, "--on-reboot", "maybe");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hostsim: error: --on-reboot maybe: expected reboot or stop", r.Stderr.Trim());
        string policy = _files.Write("bad.json", "{\n  \"reboot\": {\n    \"on-reboot\": \"reset\"\n  }\n}");
        var f = HostSimProcess.Run(_resets3, "--policy", policy);
        Assert.Equal(78, f.ExitCode);
        Assert.Equal($"hostsim: error: {policy}:3: reboot.on-reboot: 'reset' is not one of reboot, stop", f.Stderr.Trim());
    }

    [Fact]
    public void A_bad_kexec_value_is_one_line()
    {
        var r = HostSimProcess.Run(_hi, "--kexec", "sometimes");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hostsim: error: --kexec sometimes: expected allow or deny", r.Stderr.Trim());
        Assert.Equal(1, HostSimProcess.Run(_hi, "--kexec", "deny", "--quiet").ExitCode);
    }

    public void Dispose() => _files.Dispose();
}
