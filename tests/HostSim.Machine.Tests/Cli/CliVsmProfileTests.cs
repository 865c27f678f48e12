using System.Text.Json;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>`hostsim run --profile vsm` (docs/vtl.md): the Hyper-V VSM host instead of the
/// HekiGuest one, with its set-up steps in the --events file.</summary>
public sealed class CliVsmProfileTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"hostsim-cli-vsm-{Guid.NewGuid():N}");

    public CliVsmProfileTests() => Directory.CreateDirectory(_root);

    /// <summary>Sets GUEST_OS_ID, enables the hypercall page at 0x8000, makes a fast call with an
    /// unimplemented code through the page (32-bit convention: EDX:EAX) and writes the status to
    /// debug-exit: status 2, exit code 5.</summary>
    private static byte[] SetsUpAndCalls() => CliGuests.Kernel(a =>
    {
        a.mov(ecx, 0x40000000); a.mov(eax, 1); a.xor(edx, edx); a.wrmsr();
        a.mov(ecx, 0x40000001); a.mov(eax, 0x8001); a.xor(edx, edx); a.wrmsr();
        a.mov(esp, 0x7000);
        a.xor(edx, edx); a.mov(eax, 0x10001);
        a.xor(ebx, ebx); a.xor(ecx, ecx); a.xor(edi, edi); a.xor(esi, esi);
        a.mov(ebp, 0x8000); a.call(ebp);
        a.@out(0xF4, al);
        a.hlt();
    });

    [Fact]
    public void A_guest_sets_up_hypercalls_and_gets_invalid_code_and_the_events_record_the_set_up()
    {
        string kernel = Path.Combine(_root, "vsm.elf"), events = Path.Combine(_root, "events.jsonl");
        File.WriteAllBytes(kernel, SetsUpAndCalls());
        var r = HostSimProcess.Run("run", kernel, "--profile", "vsm", "--events", events, "--quiet");
        Assert.True(r.ExitCode == 5, r.ToString());
        var lines = File.ReadAllLines(events).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["guest-os-id", "hypercall-page"], lines.Select(e => e.GetProperty("step").GetString()));
        Assert.All(lines, e => Assert.Equal("setup", e.GetProperty("event").GetString()));
        Assert.Equal("0x8001", lines[1].GetProperty("value").GetString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
