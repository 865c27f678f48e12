using HekiGuest.HostSim.GuestFuzz;

// make fuzz-guest: see FuzzCommand for the options, SeedRunner for what one seed does.
var root = FuzzCommand.Create(Console.Out);
try
{
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        Console.Error.WriteLine($"hostsim-guest-fuzz: error: {parse.Errors[0].Message} (see --help)");
        return FuzzCommand.ExitUsage;
    }
    return parse.Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageError e)
{
    Console.Error.WriteLine($"hostsim-guest-fuzz: error: {e.Message}");
    return FuzzCommand.ExitUsage;
}
