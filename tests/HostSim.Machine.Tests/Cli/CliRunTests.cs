using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>`hostsim run` booting tiny guests: serial on stdout, the exit code from debug-exit or
/// from how the machine stopped, crash reports on stderr, the JSON trace.</summary>
public sealed partial class CliRunTests(CliFiles files) : IClassFixture<CliFiles>
{
    [GeneratedRegex(@"^  last (\d+) instructions \(oldest first\):$")]
    private static partial Regex RecentHeader();

    [GeneratedRegex(@"^    ([0-9a-f]{16})  [0-9a-f]+ +\S")]
    private static partial Regex RecentLine();

    [Fact]
    public void Guest_printing_hi_and_writing_0_to_debug_exit_gives_hi_on_stdout_and_exit_code_1()
    {
        var r = HostSimProcess.Run("run", files.Hi);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal("hi", r.Stdout);
        string summary = Assert.Single(r.StderrLines);               // the statistics line, nothing else
        Assert.StartsWith("hostsim: guest exit: debug-exit value 0;", summary);
        Assert.EndsWith("exit code 1", summary);
    }

    [Fact]
    public void Quiet_run_leaves_stderr_empty()
    {
        var r = HostSimProcess.Run("run", files.Hi, "--quiet");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal("hi", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Triple_fault_exits_70_with_the_fault_chain_and_the_last_instructions()
    {
        var r = HostSimProcess.Run("run", files.Triple);
        Assert.True(r.ExitCode == 70, r.ToString());
        Assert.Equal("", r.Stdout);
        Assert.Contains("hostsim: TripleFault: triple fault", r.Stderr);
        string[] lines = r.StderrLines;
        int chain = Array.IndexOf(lines, "  fault chain:");
        Assert.True(chain > 0, r.ToString());
        Assert.StartsWith("    vector 0 (#DE)", lines[chain + 1]);
        Assert.Contains(lines.Skip(chain + 1).TakeWhile(l => l.StartsWith("    vector", StringComparison.Ordinal)),
            l => l.StartsWith("    vector 8 (#DF)", StringComparison.Ordinal));

        var recent = RecentInstructions(r);
        // mov eax,1; mov ebx,2; xor ecx,ecx; div ecx (the faulting one last), from the entry point on.
        Assert.Equal(4, recent.Count);
        Assert.Equal(CliGuests.Entry, recent[0].Rip);
        Assert.True(recent.Zip(recent.Skip(1)).All(p => p.First.Rip < p.Second.Rip), r.ToString());
        Assert.Contains("mov", recent[0].Line);
        Assert.Contains("div", recent[^1].Line);
        Assert.EndsWith("exit code 70", lines[^1]);
    }

    [Fact]
    public void Endless_loop_with_a_timeout_exits_124_with_the_report()
    {
        var r = HostSimProcess.Run("run", files.Spin, "--timeout", "1s");
        Assert.True(r.ExitCode == 124, r.ToString());
        Assert.Contains("hostsim: Timeout: timeout after 1 s", r.Stderr);
        var recent = RecentInstructions(r);
        Assert.Equal(32, recent.Count);                                // the loop ran long enough to fill the ring
        Assert.All(recent, i => Assert.True(i.Line.Contains("inc") || i.Line.Contains("jmp"), i.Line));
    }

    [Fact]
    public void Instruction_limit_exits_124_after_exactly_that_many_instructions()
    {
        var r = HostSimProcess.Run("run", files.Spin, "--max-instructions", "5001");
        Assert.True(r.ExitCode == 124, r.ToString());
        Assert.Contains("hostsim: InstructionLimit: instruction limit of 5001 reached", r.Stderr);
        Assert.Contains("  after 5001 instructions", r.Stderr);
        Assert.Equal(32, RecentInstructions(r).Count);
    }

    [Fact]
    public void Unimplemented_instruction_with_stop_on_unimplemented_exits_71_naming_the_mnemonic()
    {
        var r = HostSimProcess.Run("run", files.Fsin, "--stop-on-unimplemented");
        Assert.True(r.ExitCode == 71, r.ToString());
        string first = r.StderrLines[0];
        Assert.StartsWith("hostsim: Unimplemented: unimplemented instruction at 0x100011:", first);
        Assert.Contains("fsin", first, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("[D9FE]", first);                             // the instruction bytes
        Assert.Contains("fsin", RecentInstructions(r)[^1].Line);
    }

    [Fact]
    public void Run_help_documents_stop_on_unimplemented()
    {
        var r = HostSimProcess.Run("run", "--help");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("--stop-on-unimplemented", r.Stdout);
        Assert.Contains("71 unimplemented instruction (--stop-on-unimplemented)", r.Stdout);
    }

    [Fact]
    public void Unimplemented_instruction_by_default_delivers_ud_to_the_guest_and_notes_it()
    {
        // The guest has no IDT: the #UD it is given becomes #GP, #DF, then a triple fault (70),
        // not a simulator stop (71); stderr notes the instruction once.
        var r = HostSimProcess.Run("run", files.Fsin);
        Assert.True(r.ExitCode == 70, r.ToString());
        Assert.Contains("hostsim: note: #UD for an instruction the simulator does not implement at 0x100011: fsin [D9FE]", r.StderrLines);
        Assert.Contains("    vector 6 (#UD)", r.Stderr);
    }

    [Fact]
    public void Trace_file_is_json_lines_boot_then_every_instruction_then_stop()
    {
        string trace = Path.Combine(files.Root, "trace.jsonl");
        var r = HostSimProcess.Run("run", files.Hi, "--trace", trace, "--quiet");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal("hi", r.Stdout);

        string[] lines = File.ReadAllLines(trace);
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();   // every line is JSON
        Assert.All(records, e => Assert.Equal(JsonValueKind.String, e.GetProperty("type").ValueKind));
        Assert.Equal(["boot", "insn", "insn", "insn", "insn", "insn", "insn", "insn", "stop"],
            records.Select(e => e.GetProperty("type").GetString()));

        var boot = records[0];
        Assert.Equal("Multiboot1", boot.GetProperty("protocol").GetString());
        Assert.Equal("0x10000c", boot.GetProperty("entry").GetString());

        var insns = records.Where(e => e.GetProperty("type").GetString() == "insn").ToList();
        Assert.Equal("0x10000c", insns[0].GetProperty("rip").GetString());
        Assert.Equal("66baf803", insns[0].GetProperty("bytes").GetString());        // mov dx,3F8h
        Assert.Contains("mov", insns[0].GetProperty("text").GetString());
        Assert.Contains("out", insns[^1].GetProperty("text").GetString());
        for (int i = 1; i < insns.Count; i++)
        {
            Assert.Equal(insns[i - 1].GetProperty("n").GetInt64() + 1, insns[i].GetProperty("n").GetInt64());
            ulong prev = ulong.Parse(insns[i - 1].GetProperty("rip").GetString()![2..], NumberStyles.HexNumber);
            ulong rip = ulong.Parse(insns[i].GetProperty("rip").GetString()![2..], NumberStyles.HexNumber);
            Assert.Equal(prev + (ulong)insns[i - 1].GetProperty("bytes").GetString()!.Length / 2, rip);    // straight-line code
            Assert.Equal(0, insns[i].GetProperty("cpl").GetInt32());
        }

        var stop = records[^1];
        Assert.Equal("GuestExit", stop.GetProperty("kind").GetString());
        Assert.Equal(1, stop.GetProperty("exit").GetInt32());
    }

    [Fact]
    public void Command_line_reaches_the_guest_through_the_boot_information()
    {
        // A guest that prints its own multiboot1 command line (EBX -> info, +16 -> cmdline) and exits.
        string kernel = Path.Combine(files.Root, "echo-cmdline.elf");
        File.WriteAllBytes(kernel, CliGuests.Kernel(a =>
        {
            var loop = a.CreateLabel();
            var done = a.CreateLabel();
            a.mov(esi, __dword_ptr[ebx + 16]);
            a.mov(dx, 0x3F8);
            a.Label(ref loop);
            a.mov(al, __byte_ptr[esi]);
            a.test(al, al);
            a.jz(done);
            a.@out(dx, al);
            a.inc(esi);
            a.jmp(loop);
            a.Label(ref done);
            a.mov(al, 5);
            a.@out(0xF4, al);
            a.hlt();
        }));
        var r = HostSimProcess.Run("run", kernel, "--cmdline", "console=ttyS0 héllo wörld", "--module", files.SmallModule + "=m", "--quiet");
        Assert.True(r.ExitCode == 11, r.ToString());
        Assert.Equal("console=ttyS0 héllo wörld", r.Stdout);                 // UTF-8 bytes, as multiboot2 specifies
    }

    private static List<(ulong Rip, string Line)> RecentInstructions(CliResult r)
    {
        string[] lines = r.StderrLines;
        int header = Array.FindIndex(lines, l => RecentHeader().IsMatch(l));
        Assert.True(header >= 0, r.ToString());
        int count = int.Parse(RecentHeader().Match(lines[header]).Groups[1].Value, CultureInfo.InvariantCulture);
        var list = new List<(ulong, string)>();
        for (int i = header + 1; i < lines.Length && RecentLine().IsMatch(lines[i]); i++)
        {
            list.Add((ulong.Parse(RecentLine().Match(lines[i]).Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), lines[i]));
        }
        Assert.Equal(count, list.Count);
        return list;
    }
}
