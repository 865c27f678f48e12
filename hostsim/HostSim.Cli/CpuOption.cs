using System.CommandLine;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Cli;

/// <summary>`--cpu MODEL[,+feat,-feat,...]` (like QEMU's -cpu) and `--cpu help`.</summary>
public static class CpuOption
{
    public static Option<string?> Create() => new("--cpu")
    {
        Description = $"CPU model and features, like QEMU's -cpu: MODEL[,+feat,-feat,...] (default {CpuModels.DefaultName}; "
            + "'--cpu help' lists the models and features). A feature the simulator does not implement cannot be enabled.",
    };

    /// <summary>The model a --cpu value names (the default without one); bad input is a <see cref="UsageError"/>.</summary>
    public static CpuModel Parse(string? text)
    {
        if (text is null) return CpuModels.Default;
        try
        {
            return CpuModelSpec.Parse(text);
        }
        catch (CpuModelSpecError e)
        {
            throw new UsageError(e.Message);
        }
    }

    /// <summary>True for `hostsim run ... --cpu help` (also `--cpu=help` or `?`), which needs no kernel argument.</summary>
    public static bool IsHelpRequest(string[] args)
    {
        static bool IsHelp(string v) => v is "help" or "?";
        if (args.Length == 0 || args[0] != "run") return false;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--cpu" && i + 1 < args.Length && IsHelp(args[i + 1])) return true;
            if (args[i].StartsWith("--cpu=", StringComparison.Ordinal) && IsHelp(args[i]["--cpu=".Length..])) return true;
        }
        return false;
    }

    public static string HelpText() => CpuModelSpec.Help();
}
