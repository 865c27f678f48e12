using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HekiGuest.HostSim.Control.Qmp;
using Iced.Intel;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// gdb's `monitor` commands (qRcmd). The host-policy views are the QMP commands' own handlers
/// (HostSim.Control's HostCommands: hostsim-query-pins, -permissions, -vtl, -cpu), run on the VM
/// thread, so the two interfaces report the same state the same way; `vtl N` selects what gdb
/// sees; `last` disassembles the instructions the CPU ran last with Iced.
/// </summary>
public sealed class GdbMonitor(GdbMachine machine, IEnumerable<QmpCommand> hostCommands)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly Dictionary<string, QmpCommand> _commands = hostCommands.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public const string Help = """
        hostsim monitor commands:
          help                 this text
          pins                 the CR pins (QMP hostsim-query-pins)
          permissions [GPA]    the host permission map (QMP hostsim-query-permissions); with GPA, the run holding it
          vtl                  VTL state (QMP hostsim-query-vtl) and the VTL gdb shows
          vtl N                show VTL N (VTL1 needs --show-vtl1 or the policy key vtl1-debug)
          last [N]             the last N (at most 32, default 16) instructions executed, disassembled
          registers            CPU summary (QMP hostsim-query-cpu) and the general registers

        """;

    /// <summary>Runs one command line; returns the text to show (errors are text too).</summary>
    public string Execute(string line)
    {
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] == "help") return Help;
        try
        {
            return words[0] switch
            {
                "pins" when words.Length == 1 => Query("hostsim-query-pins"),
                "permissions" when words.Length <= 2 => Permissions(words.Length == 2 ? words[1] : null),
                "vtl" when words.Length == 1 => Query("hostsim-query-vtl").TrimEnd('\n') + $"\ngdb shows VTL {machine.SelectedVtl}\n",
                "vtl" when words.Length == 2 => SelectVtl(words[1]),
                "last" when words.Length <= 2 => Last(words.Length == 2 ? words[1] : null),
                "registers" when words.Length == 1 => Registers(),
                _ => $"unknown monitor command or arguments: '{line.Trim()}' (try 'monitor help')\n",
            };
        }
        catch (QmpError e)
        {
            return $"error: {e.Message}\n";
        }
    }

    private string Query(string name)
    {
        if (!_commands.TryGetValue(name, out var command)) return $"error: {name} is not available in this run\n";
        var result = command.Handler(new QmpArguments(null, command.Parameters));
        return (result?.ToJsonString(Indented) ?? "{}") + "\n";
    }

    private string Permissions(string? gpaText)
    {
        if (gpaText is null) return Query("hostsim-query-permissions");
        if (!TryParseNumber(gpaText, out ulong gpa)) return $"error: '{gpaText}' is not an address\n";
        if (!_commands.TryGetValue("hostsim-query-permissions", out var command)) return "error: hostsim-query-permissions is not available in this run\n";
        var result = command.Handler(new QmpArguments(null, command.Parameters)) as JsonObject;
        foreach (var range in result?["ranges"]?.AsArray() ?? [])
        {
            if (range is not JsonObject r) continue;
            TryParseNumber((string?)r["gpa"] ?? "", out ulong start);
            ulong pages = (ulong?)r["pages"] ?? 0;
            if (gpa >= start && gpa - start < pages * 4096)
                return $"gpa 0x{gpa:x}: permissions {r["permissions"]} (run 0x{start:x}, {pages} pages)\n";
        }
        return $"gpa 0x{gpa:x}: not in the permission map (every right)\n";
    }

    private string SelectVtl(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int vtl)) return $"error: '{text}' is not a VTL number\n";
        if (machine.SelectVtl(vtl) is { } refusal) return $"error: {refusal}\n";
        return machine.RunsSelectedVtl
            ? $"gdb shows VTL {vtl} (running now)\n"
            : $"gdb shows VTL {vtl} (not running: its saved registers and its page tables; the VM stops only in VTL {vtl} from now on)\n";
    }

    private string Last(string? countText)
    {
        int count = 16;
        if (countText is not null && (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
            return $"error: '{countText}' is not a positive count\n";
        var vm = machine.Vm;
        if (vm.InspectionFilter is { HidesState: true } f) return $"hidden: {f.Notice}\n";
        var rips = vm.RecentInstructions();
        var sb = new StringBuilder();
        var formatter = new GasFormatter();
        var output = new StringOutput();
        Span<byte> bytes = stackalloc byte[15];
        foreach (ulong rip in rips.Skip(Math.Max(0, rips.Count - count)))
        {
            int n = vm.PeekCode(rip, bytes);
            var decoder = Iced.Intel.Decoder.Create(vm.Cpu.Bitness, new ByteArrayCodeReader(bytes[..n].ToArray()), rip);
            decoder.Decode(out var insn);
            if (n == 0 || insn.IsInvalid)
            {
                sb.Append(CultureInfo.InvariantCulture, $"0x{rip:x16}  (unreadable)\n");
                continue;
            }
            formatter.Format(insn, output);
            sb.Append(CultureInfo.InvariantCulture, $"0x{rip:x16}  {Convert.ToHexString(bytes[..insn.Length]).ToLowerInvariant(),-30} {output.ToStringAndReset()}\n");
        }
        return sb.Length == 0 ? "no instructions executed yet\n" : sb.ToString();
    }

    private string Registers()
    {
        var sb = new StringBuilder(Query("hostsim-query-cpu").StartsWith("error", StringComparison.Ordinal) ? "" : Query("hostsim-query-cpu"));
        Span<byte> value = stackalloc byte[16];
        foreach (var r in GdbTargetDescription.Registers.Where(r => r.Number < 24 || r.Feature == GdbTargetDescription.Sys || r.Feature == GdbTargetDescription.Segments))
        {
            if (!machine.TryReadRegister(r, value)) continue;
            ulong v = 0;
            for (int i = 0; i < Math.Min(8, r.Bytes); i++) v |= (ulong)value[i] << (8 * i);
            sb.Append(CultureInfo.InvariantCulture, $"{r.Name,-15} 0x{v:x16}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"(VTL {machine.SelectedVtl})\n");
        return sb.ToString();
    }

    private static bool TryParseNumber(string text, out ulong value)
    {
        value = 0;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
