using System.CommandLine;
using HekiGuest.HostSim.Cli;

var root = new RootCommand("hostsim: the HekiGuest host simulator, an x86-64 PC emulated on Iced that boots HekiGuest kernels anywhere .NET runs.")
{
    RunCommand.Create(),
};
if (CpuOption.IsHelpRequest(args))
{
    Console.Out.Write(CpuOption.HelpText());
    return 0;
}
try
{
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        Console.Error.WriteLine($"hostsim: error: {parse.Errors[0].Message} (see hostsim --help)");
        return 2;
    }
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageError e)
{
    Console.Error.WriteLine($"hostsim: error: {e.Message}");
    return 2;
}
catch (ListenError e)
{
    Console.Error.WriteLine($"hostsim: error: {e.Message}");
    return ListenError.ExitCode;
}
catch (HekiGuest.HostSim.Control.Policy.PolicyError e)
{
    Console.Error.WriteLine($"hostsim: error: {e.Message}");
    return HekiGuest.HostSim.Control.Policy.PolicyError.ExitCode;
}
